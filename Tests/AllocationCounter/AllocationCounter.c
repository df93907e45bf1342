#define _GNU_SOURCE
#include "AllocationCounter.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

// glibc's own allocator, under the names it exports for replacements to forward to.
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t count, size_t size);
void *__libc_realloc(void *pointer, size_t size);
void *__libc_memalign(size_t alignment, size_t size);

// Per thread: only the allocations of the thread being measured count.
static __thread int counting;
static __thread long counted, countedInOpenBLAS;

// `caller`: the return address of the allocation function, which says whose code asked.
// OpenBLAS 0.3.21's small-matrix kernels (its SkylakeX and Cooperlake targets, which it picks
// by itself on an AVX-512 Zen 4) allocate their packing buffers per call: counted apart, as
// not ours to remove.
static inline void note(void *caller) {
    if (!counting) return;
    counting = 0;  // dladdr must not count itself
    Dl_info info;
    if (dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "libopenblas")) {
        countedInOpenBLAS++;
    } else {
        counted++;
    }
    counting = 1;
}

void *malloc(size_t size) { note(__builtin_return_address(0)); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { note(__builtin_return_address(0)); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { note(__builtin_return_address(0)); return __libc_realloc(pointer, size); }
void *memalign(size_t alignment, size_t size) { note(__builtin_return_address(0)); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(__builtin_return_address(0)); return __libc_memalign(alignment, size); }

int posix_memalign(void **result, size_t alignment, size_t size) {
    note(__builtin_return_address(0));
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

void allocation_counter_start(void) {
    counted = 0;
    countedInOpenBLAS = 0;
    counting = 1;
}

long allocation_counter_stop(void) {
    counting = 0;
    return counted;
}

long allocation_counter_openblas(void) { return countedInOpenBLAS; }
