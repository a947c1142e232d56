/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit suites for module/ctl.c and the ABI, included at its end when the
 * module is built with COWTRACE_KUNIT=y (see kunit/walk-kunit.h for why).
 *
 *   cowtrace_abi   record and struct layout, sizes, offsets, version
 *   cowtrace_args  snapshot argument validation, one errno per mistake
 */
#include <kunit/test.h>

/* ---- cowtrace_abi ------------------------------------------------------ */

static void abi_page_record_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct cowtrace_page), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_page, addr), 0);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_page, pfn), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_page, flags), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_page, refcount), 20);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_page, swap_type), 20);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_page, mapcount), 24);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_page, folio_mapcount),
			28);
}

static void abi_vma_record_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct cowtrace_vma), 64);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_vma, vm_flags), 24);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_vma, ino), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_vma, dev), 40);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_vma, flags), 44);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_vma, name_off), 52);
}

static void abi_args_start_with_size(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_version, size), 0);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_mm_info, size), 0);
	KUNIT_EXPECT_EQ(test, offsetof(struct cowtrace_snapshot, size), 0);
	KUNIT_EXPECT_EQ(test, sizeof(struct cowtrace_snapshot), 96);
	KUNIT_EXPECT_EQ(test, sizeof(struct cowtrace_mm_info), 112);
	KUNIT_EXPECT_EQ(test, sizeof(struct cowtrace_version), 40);
	KUNIT_EXPECT_EQ(test, sizeof(struct cowtrace_page_run), 40);
	/* the ioctl numbers carry the struct sizes of ABI version 1 */
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(COWTRACE_IOC_SNAPSHOT), 96);
	KUNIT_EXPECT_EQ(test, _IOC_NR(COWTRACE_IOC_SNAPSHOT), 2);
	KUNIT_EXPECT_EQ(test, COWTRACE_ABI_VERSION, 1);
}

static void abi_flag_fields_do_not_overlap(struct kunit *test)
{
	u32 pte = GENMASK(11, 0), pg = GENMASK(26, 14);

	KUNIT_EXPECT_EQ(test, pte & COWTRACE_LEVEL_MASK, 0);
	KUNIT_EXPECT_EQ(test, pg & COWTRACE_LEVEL_MASK, 0);
	KUNIT_EXPECT_EQ(test,
			(pte | pg | COWTRACE_LEVEL_MASK) & COWTRACE_ORDER_MASK,
			0);
	KUNIT_EXPECT_EQ(test, COWTRACE_PTE_MARKER, BIT(11));
	KUNIT_EXPECT_EQ(test, COWTRACE_PG_PAGE, BIT(14));
	KUNIT_EXPECT_EQ(test, COWTRACE_PG_MLOCKED, BIT(26));
}

/*
 * The flag-name tables every printer uses: one bit per entry, in bit order,
 * each name once, and every flag with a meaning of its own named (the PTE
 * bits by letter; PTE_PRESENT and PG_PAGE say what a record is, as columns).
 */
static void abi_flag_name_tables(struct kunit *test)
{
	static const struct {
		u32 flag;
		const char *name;
	} vma[] = COWTRACE_VMA_FLAG_NAMES_INIT,
	  page[] = COWTRACE_PAGE_FLAG_NAMES_INIT;
	static const struct {
		u32 flag;
		char letter;
	} pte[] = COWTRACE_PTE_FLAG_LETTERS_INIT;
	u32 all = 0, named = COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vma); i++) {
		KUNIT_EXPECT_EQ(test, hweight32(vma[i].flag), 1);
		KUNIT_EXPECT_TRUE(test, !i || vma[i].flag > vma[i - 1].flag);
		all |= vma[i].flag;
	}
	KUNIT_EXPECT_EQ(test, all,
			GENMASK(20, 0) | COWTRACE_VMA_COW |
				COWTRACE_VMA_ANON_VMA);
	for (i = 0; i < ARRAY_SIZE(pte); i++) {
		KUNIT_EXPECT_EQ(test, hweight32(pte[i].flag), 1);
		named |= pte[i].flag;
	}
	for (i = 0; i < ARRAY_SIZE(page); i++) {
		KUNIT_EXPECT_EQ(test, hweight32(page[i].flag), 1);
		KUNIT_EXPECT_TRUE(test, !i || page[i].flag > page[i - 1].flag);
		KUNIT_EXPECT_FALSE(test, named & page[i].flag);
		named |= page[i].flag;
	}
	/* bits 0-11 and 14-26: the level and the order are fields, not flags */
	KUNIT_EXPECT_EQ(test, named, GENMASK(11, 0) | GENMASK(26, 14));
}

static const u32 level_order_cases[][2] = {
	{ COWTRACE_LEVEL_PTE, 0 },
	{ COWTRACE_LEVEL_PMD, 9 },
	{ COWTRACE_LEVEL_PUD, 18 },
	{ COWTRACE_LEVEL_PTE, 31 },
};

static void level_order_desc(const u32 (*c)[2], char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "level %u order %u", (*c)[0],
		 (*c)[1]);
}

KUNIT_ARRAY_PARAM(level_order, level_order_cases, level_order_desc);

static void abi_level_and_order_round_trip(struct kunit *test)
{
	const u32 *c = test->param_value;
	u32 flags = COWTRACE_PTE_PRESENT | COWTRACE_PG_MLOCKED |
		    c[0] << COWTRACE_LEVEL_SHIFT | c[1] << COWTRACE_ORDER_SHIFT;

	KUNIT_EXPECT_EQ(test, COWTRACE_PAGE_LEVEL(flags), c[0]);
	KUNIT_EXPECT_EQ(test, COWTRACE_PAGE_ORDER(flags), c[1]);
	KUNIT_EXPECT_TRUE(test, flags & COWTRACE_PG_MLOCKED);
}

static struct kunit_case abi_test_cases[] = {
	KUNIT_CASE(abi_page_record_layout),
	KUNIT_CASE(abi_vma_record_layout),
	KUNIT_CASE(abi_args_start_with_size),
	KUNIT_CASE(abi_flag_fields_do_not_overlap),
	KUNIT_CASE(abi_flag_name_tables),
	KUNIT_CASE_PARAM(abi_level_and_order_round_trip,
			 level_order_gen_params),
	{}
};

static struct kunit_suite cowtrace_abi_suite = {
	.name = "cowtrace_abi",
	.test_cases = abi_test_cases,
};

/* ---- cowtrace_args ----------------------------------------------------- */

static struct cowtrace_snapshot good_args(void)
{
	struct cowtrace_snapshot a = {
		.size = sizeof(a),
		.pid = 1,
		.start = 0,
		.end = PAGE_SIZE * 16,
		.pages = 0x1000,
		.page_cap = 16,
		.vmas = 0x2000,
		.vma_cap = 4,
		.names = 0x3000,
		.names_cap = PATH_MAX,
	};
	return a;
}

static void args_good_ones_pass(struct kunit *test)
{
	struct cowtrace_snapshot a = good_args();

	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), 0);
	a.vma_cap = 0;
	a.vmas = 0;
	a.names_cap = 0;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a),
			0); /* pages only */
	a = good_args();
	a.page_cap = 0;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a),
			0); /* VMAs only */
	a.end = ~0ULL & PAGE_MASK;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a),
			0); /* everything */
}

static void args_unknown_flags_and_reserved(struct kunit *test)
{
	struct cowtrace_snapshot a = good_args();

	a.flags = COWTRACE_SNAP_RUNS;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), 0);
	a.flags = COWTRACE_SNAP_ALL_FLAGS << 1;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EINVAL);
	a.flags = BIT_ULL(63);
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EINVAL);
	a = good_args();
	a.reserved = 1;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EINVAL);
}

struct range_case {
	u64 start, end;
	int want;
};

static const struct range_case range_cases[] = {
	{ 0, PAGE_SIZE, 0 },
	{ 1, PAGE_SIZE, -EINVAL }, /* unaligned start */
	{ 0, PAGE_SIZE + 1, -EINVAL }, /* unaligned end */
	{ PAGE_SIZE, PAGE_SIZE, -EINVAL }, /* empty */
	{ 2 * PAGE_SIZE, PAGE_SIZE, -EINVAL }, /* inverted */
	{ 0, ~0ULL & PAGE_MASK, 0 }, /* huge: clamped later */
};

static void range_desc(const struct range_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "[%#llx, %#llx) -> %d", c->start,
		 c->end, c->want);
}

KUNIT_ARRAY_PARAM(range, range_cases, range_desc);

static void args_ranges(struct kunit *test)
{
	const struct range_case *c = test->param_value;
	struct cowtrace_snapshot a = good_args();

	a.start = c->start;
	a.end = c->end;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), c->want);
}

static void args_buffers(struct kunit *test)
{
	struct cowtrace_snapshot a = good_args();

	a.page_cap = 0;
	a.vma_cap = 0;
	a.names_cap = 0;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EINVAL);
	a = good_args();
	a.names_cap = PATH_MAX - 1; /* a name might never fit */
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EINVAL);
	a = good_args();
	a.vma_cap = 0; /* names without VMAs */
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EINVAL);
	a = good_args();
	a.pages = 0; /* a capacity with no buffer */
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EFAULT);
	a = good_args();
	a.vmas = 0;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EFAULT);
	a = good_args();
	a.names = 0;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EFAULT);
	/* mapped output: the pages pointer must be 0, and is not needed */
	a = good_args();
	a.flags = COWTRACE_SNAP_MMAP;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), -EINVAL);
	a.pages = 0;
	KUNIT_EXPECT_EQ(test, cowtrace_check_snapshot_args(&a), 0);
}

static void args_target_lookup(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, PTR_ERR(cowtrace_get_mm(0, NULL)), -ESRCH);
	KUNIT_EXPECT_EQ(test, PTR_ERR(cowtrace_get_mm(-5, NULL)), -ESRCH);
	/* kthreadd has no mm */
	KUNIT_EXPECT_EQ(test, PTR_ERR(cowtrace_get_mm(2, NULL)), -ESRCH);
	KUNIT_EXPECT_EQ(test, PTR_ERR(cowtrace_get_mm(PID_MAX_LIMIT + 1, NULL)),
			-ESRCH);
}

static struct kunit_case args_test_cases[] = {
	KUNIT_CASE(args_good_ones_pass),
	KUNIT_CASE(args_unknown_flags_and_reserved),
	KUNIT_CASE_PARAM(args_ranges, range_gen_params),
	KUNIT_CASE(args_buffers),
	KUNIT_CASE(args_target_lookup),
	{}
};

static struct kunit_suite cowtrace_args_suite = {
	.name = "cowtrace_args",
	.test_cases = args_test_cases,
};

kunit_test_suites(&cowtrace_abi_suite, &cowtrace_args_suite);
