// Counts the heap allocations the calling thread makes between start and stop: the test that a
// warmed-up inference plan allocates nothing. malloc and its kin are replaced in the test
// executable (glibc supports replacing them) by versions that count and forward to glibc's own.
#pragma once

void allocation_counter_start(void);
// The allocations since start, but for OpenBLAS's own (see allocation_counter_openblas).
long allocation_counter_stop(void);
// The allocations OpenBLAS's code made in the last span: its small-matrix kernels allocate on
// some of its targets, whatever the caller does.
long allocation_counter_openblas(void);
