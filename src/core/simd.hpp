#pragma once
// SCO_KERNEL_CLONES marks a hot kernel to be compiled for AVX2 and for baseline x86-64, chosen at
// load time (GCC function multiversioning). Elsewhere, and with -march=native, it is empty.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__AVX2__) && !defined(SCO_NO_CLONES)
#define SCO_KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SCO_KERNEL_CLONES
#endif
