// Counts the heap allocations the calling thread makes between start and stop: the test that a
// warmed-up inference plan allocates nothing. malloc and its kin are replaced in the test
// executable (glibc supports replacing them) by versions that count and forward to glibc's own.
#pragma once

void allocation_counter_start(void);
long allocation_counter_stop(void);
