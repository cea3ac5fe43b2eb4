/*
 * Replays fuzz corpora without libFuzzer, so `make test` runs every seed
 * and every crash input kept in fuzz/corpus/ through the decoders. Link it
 * with one fuzz_X.c (which defines LLVMFuzzerTestOneInput) and pass
 * directories or files: each file runs whole and cut to every shorter
 * length, each time from an exact-size heap copy so AddressSanitizer sees
 * any read past the end. Fails when no input was found.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest input replayed; the corpus holds small files. */
#define REPLAY_MAX (1u << 20)

static size_t g_files, g_runs;

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    uint8_t *buf = malloc(REPLAY_MAX);
    size_t n = buf ? fread(buf, 1, REPLAY_MAX, f) : 0;
    int too_big = buf && n == REPLAY_MAX && fgetc(f) != EOF;
    fclose(f);
    if (buf == NULL || too_big) {
        fprintf(stderr, "replay: %s: %s\n", path,
                buf ? "larger than 1 MiB" : "out of memory");
        free(buf);
        return -1;
    }
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *exact = malloc(cut ? cut : 1);
        if (exact == NULL) {
            free(buf);
            return -1;
        }
        memcpy(exact, buf, cut);
        LLVMFuzzerTestOneInput(exact, cut);
        free(exact);
        g_runs++;
    }
    free(buf);
    g_files++;
    return 0;
}

static int
replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.') {
            continue;
        }
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
            (int)sizeof path) {
            rc = -1;
            break;
        }
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = replay_file(path);
        }
    }
    closedir(d);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int rc = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)
                     ? replay_dir(argv[i])
                     : replay_file(argv[i]);
        if (rc != 0) {
            return 1;
        }
    }
    printf("replayed %zu files (%zu inputs with every truncation)\n", g_files,
           g_runs);
    if (g_files == 0) {
        fprintf(stderr, "replay: no corpus files found\n");
        return 1;
    }
    return 0;
}
