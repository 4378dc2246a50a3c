// The trivial program, to measure the fixed cost of one run: r0 = 0; exit.
typedef unsigned long long u64;

u64 empty(const void *mem)
{
	(void)mem;
	return 0;
}
