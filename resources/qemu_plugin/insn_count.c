/* A QEMU 7.2 TCG plugin (plugin API version 1) that counts executed guest instructions.
 *
 * Arguments: any number of mark=0xADDR (the low bit, Thumb's, is ignored). Every time a translation
 * block starting at a mark address executes, the line "mark <addr> <n>" is written, n being the
 * number of instructions executed before that block. At exit: "total <n>". Lines go through
 * qemu_plugin_outs, i.e. to the file given by -d plugin -D <file> (stderr without -D).
 *
 * Counting: each block gets one execution callback that adds the block's instruction count, so the
 * count is exact as long as blocks run to their end; a fault in the middle of a block (or an I/O
 * access that makes QEMU re-translate under -icount) counts the whole block once more. Both are
 * deterministic, so counts repeat exactly from run to run. Only one vCPU is supported (the mps2
 * boards have one), hence plain globals.
 *
 * Debian ships no qemu-plugin.h, so the few declarations needed are written out below; they
 * follow the documented QEMU 7.2 plugin API. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;

typedef struct {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

struct qemu_plugin_tb;

enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_outs(const char *string);

PLUGIN_EXPORT int qemu_plugin_version = 1;

#define MAX_MARKS 16

static uint64_t total;
static uint64_t marks[MAX_MARKS];
static int n_marks;

/* userdata is the block's instruction count; the mark callback gets the mark address instead. */
static void on_block(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    total += (uint64_t)(uintptr_t)userdata;
}

static void on_marked_block(unsigned int vcpu_index, void *userdata)
{
    char line[64];
    (void)vcpu_index;
    snprintf(line, sizeof line, "mark 0x%" PRIx64 " %" PRIu64 "\n", (uint64_t)(uintptr_t)userdata, total);
    qemu_plugin_outs(line);
}

static bool is_mark(uint64_t vaddr)
{
    int i;
    for (i = 0; i < n_marks; i++) {
        if (marks[i] == vaddr) {
            return true;
        }
    }
    return false;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    uint64_t vaddr = qemu_plugin_tb_vaddr(tb) & ~(uint64_t)1;
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    /* Callbacks of one block run in registration order: report first, so the count excludes the block. */
    if (is_mark(vaddr)) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_marked_block, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)vaddr);
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata)
{
    char line[48];
    (void)id;
    (void)userdata;
    snprintf(line, sizeof line, "total %" PRIu64 "\n", total);
    qemu_plugin_outs(line);
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        char *end = NULL;
        if (strncmp(argv[i], "mark=", 5) != 0) {
            fprintf(stderr, "insn_count: unknown argument %s (expected mark=0xADDR)\n", argv[i]);
            return -1;
        }
        if (n_marks == MAX_MARKS) {
            fprintf(stderr, "insn_count: more than %d marks\n", MAX_MARKS);
            return -1;
        }
        marks[n_marks] = strtoull(argv[i] + 5, &end, 0) & ~(uint64_t)1;
        if (end == argv[i] + 5 || *end != '\0') {
            fprintf(stderr, "insn_count: bad address in %s\n", argv[i]);
            return -1;
        }
        n_marks++;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
