// SPDX-License-Identifier: GPL-2.0
/*
 * The catalogue (claims.h): every claim the five seed articles make about
 * what the kernel does at fork, on a COW fault, at exec and vfork, with its
 * passage, an English wording, the experiment and the kernel facts that
 * decide it, and the judge that reads the experiment's run.  Data only.
 */
#include "claim_judges.h"
#include "judge.h"

/* where 004-2's and 004-15's verdicts change */
static const char reuse_rule_changes[] = "5.19: from 5.8 to 5.18 do_wp_page() reuses an anonymous page only at refcount "
	"1, so a page that only one process maps but another reference holds (a pipe's, "
	"a GUP pin, the swap cache, an LRU batch) is copied; from 5.19 a "
	"PageAnonExclusive page is reused whatever its refcount";

const struct ct_claim ct_claims[] = {
	{
		.id = "000-1", .seed = "000", .lines = "29",
		.quote = "「写时复制是一种延迟复制技术，它避免了在 `fork()` 时立即复制父进程的整个地址空间，而是让父进程和子进程暂时共享相同的物理内存页。」",
		.claim = "fork() copies none of the parent's memory at once; parent and child share the "
			"same physical pages for now.",
		.experiment = "shared_variable step 2 (fork)",
		.kernel = "`dup_mmap()` -> `copy_page_range()` -> `copy_pte_range()` -> "
			"`copy_present_pte()` (5.10, 6.1) / `copy_present_ptes()` (6.12, 7.x): takes a "
			"reference and a mapcount on the same page (`page_dup_rmap` 5.10, "
			"`page_try_dup_anon_rmap` 6.1, `folio_try_dup_anon_rmap_pte(s)` 6.12+); no page "
			"is allocated. Exception on all four: an anonymous page that may be DMA-pinned "
			"(`page_maybe_dma_pinned()` with `mm->has_pinned` on 5.10; "
			"`folio_needs_cow_for_dma()` on 6.1+) is copied at fork by "
			"`copy_present_page()`. No scenario pins a page with FOLL_PIN (vmsplice takes "
			"FOLL_GET), so that exception is not exercised.",
		.scenarios = { SV },
		.judge = judge_fork_shares,
	},
	{
		.id = "000-2", .seed = "000", .lines = "35",
		.quote = "「为子进程创建一个新的虚拟地址空间，并将父进程的页表项复制给子进程，使得父进程和子进程的虚拟地址空间都指向相同的物理内存页。」",
		.claim = "fork() gives the child a new address space and copies the parent's page-table "
			"entries into it, so both map the same frames.",
		.experiment = "private_vs_shared step 2 (fork)",
		.kernel = "`copy_page_range()` returns at once for a VMA that does not need copying. "
			"5.10: `if (!(src_vma->vm_flags & (VM_HUGETLB|VM_PFNMAP|VM_MIXEDMAP)) && "
			"!src_vma->anon_vma) return 0;`. 6.1, 6.12: `vma_needs_copy()`: uffd-wp, "
			"`VM_PFNMAP|VM_MIXEDMAP`, or `anon_vma` (hugetlb no longer always copied since "
			"6.0). 7.2/7.3: `vma_needs_copy()`: `VM_COPY_ON_FORK` (PFNMAP, MIXEDMAP, "
			"UFFD_WP, UFFD_RWP on 7.3, MAYBE_GUARD) or `anon_vma`. A MAP_SHARED or file "
			"mapping never written privately has no `anon_vma`: the child faults its pages "
			"in later (the same page-cache/shmem pages).",
		.scenarios = { PVS },
		.judge = judge_fork_copies_ptes,
	},
	{
		.id = "000-3", .seed = "000", .lines = "35",
		.quote = "「同时，将这些物理内存页标记为只读。」",
		.claim = "fork() marks the shared pages read-only.",
		.experiment = "private_vs_shared step 2 (fork)",
		.kernel = "`copy_present_pte(s)`: `if (is_cow_mapping(vm_flags) && pte_write(pte)) { "
			"ptep_set_wrprotect(src) / wrprotect_ptes(); pte = pte_wrprotect(pte); }`: what "
			"becomes read-only is the PTE, in parent **and** child, and only in COW "
			"(private, may-write) mappings; the page itself has no read-only state. Shared "
			"mappings keep writable PTEs (and are not copied at all, 000-2).",
		.scenarios = { PVS },
		.judge = judge_fork_write_protects,
		.note = "what becomes read-only is the PTE, in parent and child; the page has no "
			"read-only state",
	},
	{
		.id = "000-4", .seed = "000", .lines = "36",
		.quote = "「当父进程或子进程尝试对共享的物理内存页进行写入操作时，操作系统会检测到该页是只读的，此时会触发一个页错误（Page Fault）。」",
		.claim = "a write to a shared page by either process takes a page fault.",
		.experiment = "shared_variable step 3, last_sharer step 4 (their fault events)",
		.kernel = "the write-protected PTE makes the CPU fault; `handle_pte_fault()` -> "
			"`do_wp_page()`.",
		.scenarios = { SV, LS },
		.judge = judge_write_faults,
	},
	{
		.id = "000-5", .seed = "000", .lines = "36",
		.quote = "「操作系统会为执行写入操作的进程分配一块新的物理内存页，并将原来的内容复制到新的内存页中……这样，父进程和子进程就各自拥有了独立的内存副本。」",
		.claim = "every such write fault allocates a new page for the writer and copies into it, "
			"so that each process ends up with its own copy.",
		.experiment = "last_sharer steps 3-4, zero_page step 3",
		.kernel = "`do_wp_page()`: a private anonymous page that no one else uses is reused by "
			"`wp_page_reuse()`. 5.10: reuse if `!PageKsm && page_count() == 1` (checked "
			"again under the page lock with `page_mapcount() == 1`). 6.1: "
			"`PageAnonExclusive()` -> reuse; else the same refcount test, after draining "
			"this CPU's LRU batch (`lru_add_drain()`, if the page is not on the LRU yet) "
			"and freeing the swap cache. 6.12, 7.x: the same in "
			"`wp_can_reuse_anon_folio()`. The zero page: `wp_page_copy()` allocates a "
			"zeroed page (`is_zero_pfn`), no copy.",
		.scenarios = { LS, ZP },
		.judge = judge_every_write_copies,
		.note = "at most one copy per page is made for the pair: the last process mapping the "
			"page reuses it",
	},
	{
		.id = "000-6", .seed = "000", .lines = "42",
		.quote = "「在 `fork()` 时不需要立即复制整个地址空间，只有在真正需要写入时才进行复制，从而减少了内存的使用量。」",
		.claim = "copying only what is written saves memory.",
		.experiment = "shared_variable steps 2-3",
		.kernel = "as 000-1; `copy_pte_range()` adds the shared pages to the child's RSS counters "
			"(`add_mm_rss_vec`).",
		.scenarios = { SV },
		.judge = judge_copies_only_written,
	},
	{
		.id = "000-7", .seed = "000", .lines = "43",
		.quote = "「避免了不必要的内存复制操作，减少了 `fork()` 系统调用的执行时间，提高了系统的性能。」",
		.claim = "not copying memory makes fork() faster.",
		.experiment = "fork_exec step 2 (its fork event)",
		.kernel = "`copy_pte_range()` loops over every PTE of every VMA that needs copying; cost "
			"grows with the parent's populated private memory (8 bytes of PTE and a "
			"refcount/mapcount update per 4 KiB page).",
		.scenarios = { FE, SV },
		.judge = judge_fork_copies_ptes_not_pages,
		.note = "fork still costs time in proportion to the populated private pages: one PTE "
			"each",
	},
	{
		.id = "000-8", .seed = "000", .lines = "94",
		.quote = "「当子进程修改 `shared_variable` 时，由于写时复制机制，子进程会获得一个独立的内存副本，而父进程的 `shared_variable` "
			"值不会受到影响。」",
		.claim = "the child's write to the shared variable copies the page for the child; the "
			"parent still reads 10.",
		.experiment = "shared_variable steps 3-4 (the parent's read)",
		.kernel = "`wp_page_copy()` in the child; the parent's PTE is untouched.",
		.scenarios = { SV },
		.judge = judge_child_copy_parent_reads_old,
	},
	{
		.id = "000-9", .seed = "000", .lines = "104",
		.quote = "「对于私有映射（如 `MAP_PRIVATE` 标志创建的映射），`fork()` "
			"之后……它们最初共享相同的物理内存页，直到有一方进行写入操作时才会复制。」",
		.claim = "a MAP_PRIVATE mapping is shared after fork until one side writes, which "
			"copies.",
		.experiment = "private_vs_shared steps 2-3",
		.kernel = "000-2 and 000-5; private file pages are always copied on write (`do_wp_page()` "
			"reuses only anonymous pages; `do_cow_fault()` for a first write).",
		.scenarios = { PVS },
		.judge = judge_private_shared_until_write,
	},
	{
		.id = "000-10", .seed = "000", .lines = "105",
		.quote = "「对于共享映射（如 `MAP_SHARED` 标志创建的映射），`fork()` "
			"之后父进程和子进程会继续共享同一个映射，对该映射区域的修改会在父进程和子进程之间可见。」",
		.claim = "a MAP_SHARED mapping stays shared across fork and writes are visible to both.",
		.experiment = "private_vs_shared steps 4-5 (the parent reads the child's byte)",
		.kernel = "no `anon_vma`, PTEs not copied (000-2); the child's fault maps the same shmem "
			"page (`shmem_fault`); writes to a shared mapping never copy (`do_wp_page()` -> "
			"`wp_page_shared()` for a write-notify case).",
		.scenarios = { PVS },
		.judge = judge_map_shared_stays_shared,
	},
	{
		.id = "001-1", .seed = "001", .lines = "5, 21",
		.quote = "「父进程与子进程共享同一内存空间，从而实现数据的\"拷贝\"」",
		.claim = "with COW, parent and child share the same memory space.",
		.experiment = "shared_variable step 2, against vfork step 2",
		.kernel = "`copy_mm()`: without `CLONE_VM`, `dup_mm()` makes a new `mm_struct` and page "
			"tables; only the frames are shared.",
		.scenarios = { SV, VF },
		.judge = judge_shares_pages_not_mm,
		.note = "scored for the physical pages; the address spaces are two (one is vfork's "
			"CLONE_VM), as the seed itself says at line 99",
	},
	{
		.id = "001-2", .seed = "001", .lines = "63",
		.quote = "「程序段(Text)：CPU 执行的程序指令部分，为了程序的安全性，通常情况下是只读的；程序段可以被父子进程共享；」",
		.claim = "program text is read-only and shared by parent and child.",
		.experiment = "readonly_code steps 2-3",
		.kernel = "text is a private read-only file mapping of page-cache pages; no `anon_vma`, "
			"so fork copies no PTE; each process maps the same page-cache page on its fault "
			"(`do_read_fault()`, `filemap_map_pages()`); nothing writes it, so nothing "
			"copies it.",
		.scenarios = { RC },
		.judge = judge_text_shared_readonly,
	},
	{
		.id = "001-3", .seed = "001", .lines = "66",
		.quote = "「未初始化的数据段(BSS)：在程序执行前未对变量进行初始化的数据，内核会将这段数据定义为 0 或 空；」",
		.claim = "the kernel zero-fills the BSS before the program runs.",
		.experiment = "bss step 1 (the first read of a page of BSS)",
		.kernel = "`load_elf_binary()` maps the part of the segment beyond `p_filesz` as "
			"anonymous memory (`vm_brk_flags()`, from `set_brk()` or `elf_load()` depending "
			"on the version), zeroes the tail of the last file page (`padzero()`, which "
			"writes and so COW-copies that page); anonymous memory reads as zero: a first "
			"read maps the shared zero page (`do_anonymous_page()`), a first write gets a "
			"zeroed page.",
		.scenarios = { BSS },
		.judge = judge_bss_zero,
	},
	{
		.id = "001-4", .seed = "001", .lines = "71",
		.quote = "「当 `fork` 发生时子进程会拷贝父进程的内存数据，子进程几乎是父进程的完整副本，获得父进程的数据段、堆和栈的副本。」 … "
			"「几乎拷贝了父进程的所有数据」",
		.claim = "at fork the child copies the parent's data, heap and stack.",
		.experiment = "shared_variable step 2, private_vs_shared step 2",
		.kernel = "000-1.",
		.scenarios = { SV, PVS },
		.judge = judge_fork_copies_data,
		.note = "the contents are the same, but no page is copied at fork (except "
			"maybe-DMA-pinned anonymous pages)",
	},
	{
		.id = "001-5", .seed = "001", .lines = "73",
		.quote = "「调用 `fork` 后，父子进程会运行在独立的内存空间中，对内存的写入和修改、文件的映射都是独立的，进程之间不会相互影响。」",
		.claim = "after fork the processes' memory is independent: neither's writes or mappings "
			"affect the other.",
		.experiment = "shared_variable step 3, private_vs_shared steps 4-5",
		.kernel = "separate mm's (`dup_mm()`): later mmap/munmap are per process; COW for private "
			"mappings; MAP_SHARED pages are the same shmem/page-cache pages.",
		.scenarios = { SV, PVS },
		.judge = judge_independent,
	},
	{
		.id = "001-6", .seed = "001", .lines = "77, 81",
		.quote = "「`exec`函数会从程序文件中加载并替换调用进程的 Text、Data 段，重新初始化 BSS 段等。」 … 「exec "
			"只是用另一个新程序替换了当前进程的正文、数据、堆和栈段」",
		.claim = "exec replaces the process's text, data (and heap, stack) with the new "
			"program's and re-initialises BSS; the PID stays.",
		.experiment = "fork_exec step 2 (the exec'd child's snapshot)",
		.kernel = "`begin_new_exec()` -> `exec_mmap()` installs a brand-new `mm_struct` (made in "
			"`bprm_mm_init()`) and drops the old one (`mmput()`), so every old VMA goes, "
			"not only text/data/BSS; the PID is the task's and does not change.",
		.scenarios = { FE },
		.judge = judge_exec_replaces,
	},
	{
		.id = "001-7", .seed = "001", .lines = "77",
		.quote = "「这导致`fork`时拷贝的内存数据又被覆盖掉，白白浪费了资源。」",
		.claim = "with fork then exec, the memory fork copied is thrown away: wasted.",
		.experiment = "fork_exec steps 2-3",
		.kernel = "COW (000-1); exec frees the child's copied page tables (`exit_mmap()` of the "
			"old mm); the parent's PTEs stay write-protected until `do_wp_page()` reuses "
			"each page. On 5.10 a parent page that still has an extra reference (pagevec, "
			"swap cache) is copied instead, because of the refcount rule.",
		.scenarios = { FE },
		.judge = judge_fork_exec_copies_nothing,
		.asserts_not = 1,
		.note = "what fork+exec wastes is the copied page tables and the parent's later reuse "
			"faults, not memory",
	},
	{
		.id = "001-8", .seed = "001", .lines = "95",
		.quote = "「写时复制的主要作用就是**将复制推迟到写操作真正发生时**……`fork` 并不会立刻对父进程的内存空间进行复制，而是利用共享同一物理内存」",
		.claim = "COW postpones the copy until a write actually happens; fork shares physical "
			"memory.",
		.experiment = "shared_variable steps 2-3",
		.kernel = "000-1, 000-5.",
		.scenarios = { SV },
		.judge = judge_copies_only_written,
	},
	{
		.id = "001-9", .seed = "001", .lines = "99",
		.quote = "「在 `fork` 函数调用时，父进程和子进程会被内核分配不同的虚拟内存空间」",
		.claim = "the kernel gives parent and child different virtual address spaces.",
		.experiment = "shared_variable step 2 (mm counters)",
		.kernel = "`copy_mm()` -> `dup_mm()` (new `mm_struct`, `mm_init()` -> `mm_alloc_pgd()`), "
			"`dup_mmap()` copies the VMAs.",
		.scenarios = { SV },
		.judge = judge_separate_mms,
	},
	{
		.id = "001-10", .seed = "001", .lines = "101",
		.quote = "「在虚拟内存空间进行读操作时，内核会将虚拟内存映射到物理内存上，父子进程共享了物理上的内存空间；」",
		.claim = "reads map virtual to physical memory, and parent and child share the physical "
			"memory.",
		.experiment = "shared_variable step 4, zero_page step 2",
		.kernel = "a read of a present PTE does not fault; a read of an untouched anonymous page "
			"maps the zero page (`do_anonymous_page()`), of a file page the page-cache "
			"page. (Whether the zero-page PTEs are copied at fork depends on the VMA having "
			"an `anon_vma`; either way both end on the zero page.)",
		.scenarios = { SV, ZP },
		.judge = judge_reads_share,
	},
	{
		.id = "001-11", .seed = "001", .lines = "102",
		.quote = "「当父进程对共享的内存进行修改时，共享的内存会**以页为单位进行拷贝**，父进程会对原有的物理空间进行修改，而子进程会使用拷贝后的新物理空间；」",
		.claim = "when the parent writes shared memory, it is copied page by page, the parent "
			"keeps modifying the original frame and the child moves to the new copy.",
		.experiment = "parent_copies step 3 (the parent writes first)",
		.kernel = "`wp_page_copy()` always gives the **faulting** process the new page and "
			"changes only its PTE. THP: `do_huge_pmd_wp_page()` splits the PMD and falls "
			"back to a 4 KiB copy (since 5.8; all four).",
		.scenarios = { PC },
		.judge = judge_parent_keeps_original,
		.note = "page by page is right; who gets the copy is not: the writer does, here the "
			"parent",
	},
	{
		.id = "001-12", .seed = "001", .lines = "103",
		.quote = "「当子进程对共享的内存进行修改时，子进程会在拷贝后的新物理空间上进行修改，而不会改动原有的物理空间，避免影响父进程的内存空间；」",
		.claim = "when the child writes, it writes on the new copy and never on the original "
			"frame.",
		.experiment = "shared_variable step 3, parent_copies step 4",
		.kernel = "000-5: the last sharer reuses the original page.",
		.scenarios = { SV, PC },
		.judge = judge_child_writes_a_copy,
		.note = "the parent is unaffected either way",
	},
	{
		.id = "001-13", .seed = "001", .lines = "105",
		.quote = "「写时复制减少了不必要的物理内存的开销，使得进程的创建速度非常快」",
		.claim = "COW avoids physical-memory overhead and makes process creation very fast.",
		.experiment = "fork_exec step 2 (its fork event), shared_variable step 2 (the child's VmPTE)",
		.kernel = "000-7; fork's cost is the page tables (`copy_pte_range()`), about 1/512 of the "
			"private data.",
		.scenarios = { FE, SV },
		.judge = judge_fork_copies_ptes_not_pages,
		.note = "\"very fast\" is relative: fork stays linear in the populated private pages",
	},
	{
		.id = "001-14", .seed = "001", .lines = "114",
		.quote = "「如果父进程占用了大量物理内存资源，剩下的内存空间可能无法满足子进程需求。」",
		.claim = "(a reason for COW) a parent using much physical memory may leave too little "
			"for the child.",
		.experiment = "commit_charge step 2 (Committed_AS across the fork, the child's pages)",
		.kernel = "with COW no physical page is needed at fork, but `dup_mmap()` charges every "
			"`VM_ACCOUNT` VMA to the commit limit (`security_vm_enough_memory_mm()`; "
			"kernel/fork.c on 5.10-6.12, mm/mmap.c on 7.x).",
		.scenarios = { CC },
		.judge = judge_fork_charges_commit,
		.note = "the commit charge matters only under vm.overcommit_memory=2 (002-12)",
	},
	{
		.id = "001-15", .seed = "001", .lines = "116",
		.quote = "「如果父子进程频繁进行写操作，可能会产生大量的分页错误(页异常中断page-fault)」",
		.claim = "frequent writes by parent and child produce many page faults.",
		.experiment = "last_sharer steps 3-4, fork_exec step 3 (fault events)",
		.kernel = "every process's first write to each write-protected page faults "
			"(`do_wp_page()`); after that its PTE is writable and further writes are free.",
		.scenarios = { LS, FE },
		.judge = judge_fault_per_page_per_writer,
		.note = "one fault per page per writing process, not per write",
	},
	{
		.id = "002-1", .seed = "002", .lines = "24, 48",
		.quote = "「為子進程分配新的內存空間和內核數據結構」 … 「建立子進程的進程地址空間」",
		.claim = "fork allocates a new memory (address) space and kernel structures for the "
			"child.",
		.experiment = "shared_variable step 2 (mm counters)",
		.kernel = "`copy_process()` -> `dup_task_struct()`, `copy_mm()` -> `dup_mm()`.",
		.scenarios = { SV },
		.judge = judge_new_mm,
		.note = "the new memory space is an mm and page tables, not memory for the data",
	},
	{
		.id = "002-2", .seed = "002", .lines = "49",
		.quote = "「生成子進程對應的頁表」",
		.claim = "fork builds the child's page tables.",
		.experiment = "private_vs_shared step 2 (mm counters too)",
		.kernel = "`copy_p4d_range()`/`copy_pud_range()`/`copy_pmd_range()` allocate the child's "
			"tables (`p4d_alloc`, `pud_alloc`, `pmd_alloc`) and `copy_pte_range()` its PTE "
			"tables (`pte_alloc_map_lock()`), for VMAs that need copying (000-2); the PGD "
			"comes from `mm_alloc_pgd()`.",
		.scenarios = { PVS },
		.judge = judge_fork_copies_ptes,
	},
	{
		.id = "002-3", .seed = "002", .lines = "52",
		.quote = "「子進程剛創建時,與父進程共享相同的內存數據段和代碼段,兩者的頁表都指向同一塊物理內存區域。」",
		.claim = "a new child shares the data and code segments with its parent; both page "
			"tables point to the same frames.",
		.experiment = "shared_variable step 2, readonly_code step 2",
		.kernel = "data: PTEs copied (the `.data` VMA has an `anon_vma` once written); text: not "
			"copied, the child's own fault maps the same page-cache page (004-18).",
		.scenarios = { SV, RC },
		.judge = judge_data_and_code_shared,
	},
	{
		.id = "002-4", .seed = "002", .lines = "52",
		.quote = "「只有當父進程或子進程嘗試修改數據時,系統才會執行寫時復制操作,將原始數據復制一份供修改使用。」",
		.claim = "only when parent or child modifies data is it copied, and then a copy is made "
			"for the modification.",
		.experiment = "last_sharer steps 3-4",
		.kernel = "000-5.",
		.scenarios = { LS },
		.judge = judge_first_copies_last_reuses,
	},
	{
		.id = "002-5", .seed = "002", .lines = "54",
		.quote = "「得益于寫時拷貝技術,父子進程得以完全分離,從而確保了進程的獨立性。寫時拷貝是一種延遲申請技術,可以有效提高系統內存的使用效率。」",
		.claim = "COW separates parent and child completely, and as a lazy allocation saves "
			"memory.",
		.experiment = "shared_variable step 3, private_vs_shared steps 4-5",
		.kernel = "001-5.",
		.scenarios = { SV, PVS },
		.judge = judge_independent,
	},
	{
		.id = "002-6", .seed = "002", .lines = "60, 69",
		.quote = "「保證子進程修改數據時才會復制父進程資源」 … 「僅在子進程嘗試修改數據時觸發拷貝」",
		.claim = "a copy is triggered only when the child modifies data.",
		.experiment = "shared_variable step 3, parent_copies step 3",
		.kernel = "`do_wp_page()` treats both processes alike; whoever writes a page still mapped "
			"by the other copies.",
		.scenarios = { SV, PC },
		.judge = judge_only_child_copies,
	},
	{
		.id = "002-7", .seed = "002", .lines = "69-72",
		.quote = "「(例如 fork() 后接exec() 的場景無需拷貝父進程數據)」",
		.claim = "with fork followed by exec, none of the parent's data needs to be copied.",
		.experiment = "fork_exec steps 2-3 (the exec'd child too)",
		.kernel = "exec drops the child's mm (001-6); the parent's pages then have mapcount 1 and "
			"are reused (000-5). 5.10: reuse needs refcount 1 (a page in a pagevec or the "
			"swap cache is copied even then).",
		.scenarios = { FE },
		.judge = judge_fork_exec_copies_nothing,
	},
	{
		.id = "002-8", .seed = "002", .lines = "76",
		.quote = "「現代操作系統通過頁表映射共享父進程資源,寫時拷貝將實際拷貝操作推遲到最后一刻,顯著降低進程創建開銷。」",
		.claim = "sharing through page-table mappings and deferring copies lowers "
			"process-creation cost significantly.",
		.experiment = "fork_exec step 2 (its fork event)",
		.kernel = "000-7.",
		.scenarios = { FE, SV },
		.judge = judge_fork_copies_ptes_not_pages,
	},
	{
		.id = "002-9", .seed = "002", .lines = "80",
		.quote = "「代碼段通常是只讀的,父子進程可共享同一物理內存頁,無需觸發拷貝。」",
		.claim = "the code segment is read-only, shared by parent and child, never copied.",
		.experiment = "readonly_code steps 2-3",
		.kernel = "001-2.",
		.scenarios = { RC },
		.judge = judge_text_shared_readonly,
	},
	{
		.id = "002-10", .seed = "002", .lines = "83-85",
		.quote = "「進程替換(如 exec()):新程序加載會覆蓋原代碼段,此時需重新分配內存,本質上仍遵循\"修改時拷貝\"邏輯。」",
		.claim = "exec overwrites the old code segment and reallocates memory, which is still "
			"copy-on-modification.",
		.experiment = "fork_exec steps 1-2 (the parent's text page, the exec'd child)",
		.kernel = "`exec_mmap()` swaps in a new mm; the new text is mapped from the new file's "
			"page cache on demand; the old text pages are neither overwritten nor copied "
			"(the page cache and the parent keep them).",
		.scenarios = { FE },
		.judge = judge_exec_overwrites_text,
		.note = "exec gives the child a new mm and maps the new program's pages from its file; "
			"the old text is neither overwritten nor copied",
	},
	{
		.id = "002-11", .seed = "002", .lines = "86",
		.quote = "「自修改代碼:極少見情況下程序動態修改代碼段內容,會觸發寫時拷貝機制。」",
		.claim = "a program that modifies its own code triggers copy-on-write of the code page.",
		.experiment = "code_write step 3 (mprotect, then a write to the text page)",
		.kernel = "text is `r-x` in a private file mapping: a plain write is an access error "
			"(`SIGSEGV`, the VMA lacks `VM_WRITE`); after `mprotect(PROT_WRITE)` (allowed: "
			"`VM_MAYWRITE` is set on every private mapping) the write faults into "
			"`do_wp_page()` -> `wp_page_copy()`, which copies the page-cache page into a "
			"new anonymous page for that process only (`EVF_FILE`). `ptrace(POKETEXT)` "
			"(FOLL_FORCE) copies the same way without mprotect.",
		.scenarios = { CW },
		.judge = judge_code_write_copies,
		.note = "given the mprotect() the seed leaves out: without it the write is a SIGSEGV",
	},
	{
		.id = "002-12", .seed = "002", .lines = "95",
		.quote = "「系統中有太多的進程,內存空間不足,子進程創建失敗。」",
		.claim = "fork fails when memory is insufficient.",
		.experiment = "commit_charge step 3, under vm.overcommit_memory=2 only",
		.kernel = "fork returns `ENOMEM` when `dup_mmap()`'s commit charge "
			"(`security_vm_enough_memory_mm()`) fails or the task, mm, VMAs or page tables "
			"cannot be allocated.",
		.scenarios = { CC },
		.judge = judge_fork_fails_past_commit_limit,
		.note = "under modes 0 (the default heuristic) and 1 only a real allocation failure fails it",
	},
	{
		.id = "003-1", .seed = "003", .lines = "14-15",
		.quote = "「分配新的内存块和内核数据结构给子进程 / 将父进程部分数据结构内容拷贝至子进程（COW 写时拷贝）」",
		.claim = "fork allocates memory and kernel structures for the child and copies part of "
			"the parent's structures, with COW.",
		.experiment = "shared_variable step 2 (mm counters)",
		.kernel = "002-1.",
		.scenarios = { SV },
		.judge = judge_new_mm,
	},
	{
		.id = "003-2", .seed = "003", .lines = "19",
		.quote = "「系统调用 fork 、vfork 底层都通过系统调用 clone 函数实现，clone 函数会调用 do_fork 函数，然后 do_fork "
			"函数又会调用 copy_process 函数。」",
		.claim = "fork and vfork are built on clone, which calls do_fork, which calls "
			"copy_process.",
		.experiment = "shared_variable step 2, vfork step 2 (fork events), /proc/kallsyms",
		.kernel = "`SYSCALL_DEFINE0(fork)`, `SYSCALL_DEFINE0(vfork)`, `clone` and `clone3` each "
			"call `kernel_clone()` directly, which calls `copy_process()`. `_do_fork()` was "
			"renamed `kernel_clone()` in 5.10; no `do_fork` exists on any of the four "
			"(5.10's `include/linux/sched/task.h` declares only `kernel_clone`; 6.1 and 7.2 "
			"`kernel/fork.c` likewise).",
		.scenarios = { SV, VF },
		.judge = judge_clone_path,
	},
	{
		.id = "003-3", .seed = "003", .lines = "27",
		.quote = "「根据 clone() 参数，拷贝或共享打开的文件、进程地址空间等」",
		.claim = "depending on clone's flags, the address space is copied or shared.",
		.experiment = "vfork step 2 against shared_variable step 2 (mm counters)",
		.kernel = "`copy_mm()`: `CLONE_VM` -> `mmget(oldmm)`, else `dup_mm()`.",
		.scenarios = { VF, SV },
		.judge = judge_clone_flags,
	},
	{
		.id = "003-4", .seed = "003", .lines = "32",
		.quote = "「如果一个进程要修改自己的那份资源\"副本\"，那么就会复制那份资源，并把复制的那份提供给进程……同时其他的进程仍然共享那份没有修改过的资源。」",
		.claim = "the process that modifies gets a copy; the others keep sharing the unmodified "
			"original.",
		.experiment = "shared_variable step 3",
		.kernel = "000-5.",
		.scenarios = { SV },
		.judge = judge_writer_copies_others_keep,
	},
	{
		.id = "003-5", .seed = "003", .lines = "34",
		.quote = "「将父进程的 `虚拟内存` 与 `物理内存` 映射关系复制到子进程中，并将内存设置为只读」",
		.claim = "fork copies the virtual-to-physical mappings into the child and makes the "
			"memory read-only.",
		.experiment = "private_vs_shared step 2",
		.kernel = "000-2, 000-3.",
		.scenarios = { PVS },
		.judge = judge_fork_copies_and_protects,
	},
	{
		.id = "003-6", .seed = "003", .lines = "35",
		.quote = "「将原来的内存页复制一份新的，并重新设置其内存映射关系，将父子进程的内存读写权限设置为可读写。」",
		.claim = "after the copy, both the parent's and the child's PTEs are made writable.",
		.experiment = "shared_variable step 3 (last_sharer step 4 for the parent's next fault)",
		.kernel = "`wp_page_copy()` sets only the faulting process's new PTE "
			"(`maybe_mkwrite(pte_mkdirty(entry))`); the other PTE is not touched.",
		.scenarios = { SV, LS },
		.judge = judge_both_writable_after_copy,
	},
	{
		.id = "003-7", .seed = "003", .lines = "39",
		.quote = "「vfork的实现原理非常简单，就是父子进程完全共用一份资源. 就是是有人修改了内容，甚至main()函数退出了也不会新开辟一个空间.」",
		.claim = "with vfork parent and child share everything; a write allocates no new space.",
		.experiment = "vfork_write steps 2-3",
		.kernel = "`CLONE_VM`: one mm, one set of page tables; nothing is write-protected, so a "
			"write is an ordinary store.",
		.scenarios = { VW },
		.judge = judge_vfork_write_allocates_nothing,
	},
	{
		.id = "003-8", .seed = "003", .lines = "42, 46",
		.quote = "「vfork( )会挂起父进程直到子进程终止或者运行了一个新的可执行文件的映像。」 … 「vfork( "
			")保证子进程先运行……在它调用exec或exit之后父进程才可能被调度运行。」",
		.claim = "vfork suspends the parent until the child exits or execs.",
		.experiment = "vfork_suspends steps 2-3 (the parent's state, the reply, the exit and fork "
			"events)",
		.kernel = "`kernel_clone()` with `CLONE_VFORK` waits in `wait_for_vfork_done()` "
			"(`TASK_UNINTERRUPTIBLE|TASK_KILLABLE`, shown as `D`); `mm_release()` -> "
			"`complete_vfork_done()` wakes it, from `exit_mm_release()` at exit or "
			"`exec_mm_release()` in `exec_mmap()`.",
		.scenarios = { VS },
		.judge = judge_vfork_suspends,
	},
	{
		.id = "003-9", .seed = "003", .lines = "42",
		.quote = "「vfork( )避免了地址空间的按页复制。在这个过程中，父进程和子进程共享相同的地址空间和页表项。实际上vfork( "
			")只完成了一件事：复制内部的内核数据结构。」",
		.claim = "vfork copies no pages and no page tables; parent and child share the address "
			"space and the PTEs; only kernel structures are copied.",
		.experiment = "vfork step 2 (mm counters, fork event)",
		.kernel = "`copy_mm()` with `CLONE_VM`; `copy_page_range()` is never called.",
		.scenarios = { VF },
		.judge = judge_vfork_shares_mm,
	},
	{
		.id = "003-10", .seed = "003", .lines = "42",
		.quote = "「因此，子进程也就不能修改地址空间中的任何内存。」",
		.claim = "the vfork child cannot modify any memory of the address space.",
		.experiment = "vfork_write steps 2-3",
		.kernel = "nothing prevents it: the PTEs are writable and shared (003-9). POSIX leaves "
			"such writes undefined; the kernel carries them out in the parent's memory.",
		.scenarios = { VW },
		.judge = judge_vfork_child_writes_land,
		.asserts_not = 1,
		.note = "POSIX leaves such writes undefined; the kernel carries them out, in the "
			"parent's memory",
	},
	{
		.id = "003-11", .seed = "003", .lines = "43",
		.quote = "「即使增加了写时复制，vfork( )也要比fork( )快，因为它没有进行页表项的复制。」",
		.claim = "even with COW, vfork is faster than fork because it copies no PTEs.",
		.experiment = "vfork step 2 against fork_exec step 2 (fork events)",
		.kernel = "003-9 vs 000-7.",
		.scenarios = { VF, FE },
		.judge = judge_vfork_copies_no_ptes,
	},
	{
		.id = "003-12", .seed = "003", .lines = "45",
		.quote = "「fork( )的子进程拷贝父进程的数据段和代码段；vfork( )的子进程与父进程共享数据段」",
		.claim = "fork's child copies the data and code segments; vfork's child shares the data "
			"segment.",
		.experiment = "shared_variable step 2, readonly_code step 2, vfork step 2",
		.kernel = "001-2, 000-1, 003-9.",
		.scenarios = { SV, RC, VF },
		.judge = judge_fork_copies_vfork_shares,
	},
	{
		.id = "003-13", .seed = "003", .lines = "48",
		.quote = "「当需要改变共享数据段中变量的值，则拷贝父进程。」",
		.claim = "(in the fork/vfork comparison) when a variable of the shared data segment must "
			"change, the parent is copied.",
		.experiment = "vfork_write steps 2-3, shared_variable step 3",
		.kernel = "003-10; 000-5.",
		.scenarios = { VW, SV },
		.judge = judge_shared_write_copies_parent,
		.note = "false whether it speaks of vfork (nothing is copied) or of fork (one page is)",
	},
	{
		.id = "004-1", .seed = "004", .lines = "13",
		.quote = "「fork 创建子进程时，并不立即复制父进程的物理内存，而是让父子进程共享相同的物理内存页，并将这些页面标记为只读。」",
		.claim = "fork copies no physical memory at once; parent and child share the pages, "
			"marked read-only.",
		.experiment = "shared_variable step 2",
		.kernel = "000-1, 000-3.",
		.scenarios = { SV },
		.judge = judge_fork_shares_readonly,
	},
	{
		.id = "004-2", .seed = "004", .lines = "13",
		.quote = "「只有当某个进程（父或子）试图修改共享页面时，内核才为该进程复制一个新的物理页面，并修改相应的页表映射。」",
		.claim = "a copy is made only when a process writes a page that is still shared, and "
			"then for that process.",
		.experiment = "last_sharer steps 3-4, pinned_write step 4",
		.kernel = "5.10's `do_wp_page()` copies any anonymous page whose `page_count() != 1`, "
			"shared or not (pipe, GUP, swap cache, LRU pagevec). 6.1+: a "
			"`PageAnonExclusive` page is never copied. (Edge case on 6.1+ too: a page fork "
			"shared, whose other mapper has gone, but which an extra reference holds, is "
			"not exclusive and is copied; no scenario builds that.)",
		.scenarios = { LS, PW },
		.judge = judge_only_shared_pages_copied,
		.changes = reuse_rule_changes,
	},
	{
		.id = "004-3", .seed = "004", .lines = "13",
		.quote = "「这种方式显著减少了 fork 的开销，特别是当父进程有大量内存时。」",
		.claim = "COW greatly reduces fork's cost, especially for a parent with much memory.",
		.experiment = "fork_exec step 2 (its fork event)",
		.kernel = "000-7.",
		.scenarios = { FE, SV },
		.judge = judge_fork_copies_ptes_not_pages,
		.note = "the cost still grows with the parent's populated private memory: one PTE per "
			"page",
	},
	{
		.id = "004-4", .seed = "004", .lines = "24-25",
		.quote = "「内核创建子进程自己的 mm_struct……复制父进程的 mm_struct 中的核心信息，如代码段、数据段、堆栈段等布局。」",
		.claim = "the child gets its own mm_struct, with the parent's layout copied.",
		.experiment = "shared_variable step 2 (VMA lists, mm counters)",
		.kernel = "`dup_mm()`: `allocate_mm()`, `memcpy(mm, oldmm)`, `mm_init()`, `dup_mmap()`.",
		.scenarios = { SV },
		.judge = judge_child_mm_layout,
	},
	{
		.id = "004-5", .seed = "004", .lines = "28, 38",
		.quote = "「遍历父进程的 vma 链表，为每个 vma 创建子进程的副本。」",
		.claim = "every parent VMA is duplicated in the child, with the same range.",
		.experiment = "shared_variable step 2, dontfork step 2",
		.kernel = "`dup_mmap()` skips `VM_DONTCOPY` VMAs; `VM_WIPEONFORK` ones are copied without "
			"their pages (`copy_page_range()` not called).",
		.scenarios = { SV, DF },
		.judge = judge_every_vma_copied,
	},
	{
		.id = "004-6", .seed = "004", .lines = "29, 39",
		.quote = "「新的 vma 结构与父进程的 vma 描述相同的虚拟地址范围，但指向相同的物理页面。」 … 「这些 vma 指向相同的物理页面，实现了物理内存的共享。」",
		.claim = "the child's VMAs map the same physical pages as the parent's.",
		.experiment = "shared_variable step 2, dontfork step 2",
		.kernel = "it is PTEs, not VMAs, that map pages; populated pages are shared (copied PTEs "
			"or the same page cache). Exceptions: WIPEONFORK (empty in the child), DONTFORK "
			"(absent), maybe-DMA-pinned anonymous pages (copied at fork, 000-1).",
		.scenarios = { SV, DF },
		.judge = judge_vmas_map_same_pages,
	},
	{
		.id = "004-7", .seed = "004", .lines = "32, 64",
		.quote = "「创建子进程的页表目录（PGD），但只复制页表目录项，而不复制底层页表。」 … 「在 fork "
			"时，内核仅分配顶级页表目录（PGD），不分配中间页表和页表项。」",
		.claim = "fork creates only the child's PGD; no lower-level page tables are allocated or "
			"copied.",
		.experiment = "private_vs_shared step 2 (fork event, mm counters)",
		.kernel = "`copy_page_range()` -> `copy_p4d_range()` (`p4d_alloc`) -> `copy_pud_range()` "
			"(`pud_alloc`) -> `copy_pmd_range()` (`pmd_alloc`; `copy_huge_pmd()` for a THP, "
			"with a deposited PTE table) -> `copy_pte_range()` (`pte_alloc_map_lock()`, one "
			"entry per page) for every VMA that needs copying (000-2). Only VMAs without an "
			"`anon_vma` (MAP_SHARED, untouched file mappings) are left to faults.",
		.scenarios = { PVS },
		.judge = judge_fork_copies_ptes,
		.asserts_not = 1,
		.note = "the seed means private anonymous memory, whose page tables fork copies entry "
			"by entry",
	},
	{
		.id = "004-8", .seed = "004", .lines = "33, 42",
		.quote = "「设置写保护标志，为后续 COW 做准备。」 … 「为子进程分配了页表目录，而且为其设置写保护标志。」",
		.claim = "fork sets the write-protect bits that make COW happen (l.42: for the child).",
		.experiment = "shared_variable step 2",
		.kernel = "000-3: parent's and child's PTEs both.",
		.scenarios = { SV },
		.judge = judge_fork_shares_readonly,
		.note = "for both processes, not only the child (004-9)",
	},
	{
		.id = "004-9", .seed = "004", .lines = "47-48",
		.quote = "「父进程页表：虚拟页A → 物理页X（可读写） / 子进程页表：虚拟页A → 物理页X（只读）」",
		.claim = "after fork the parent's PTE stays writable and only the child's is read-only.",
		.experiment = "shared_variable step 2",
		.kernel = "`copy_present_pte(s)`: `ptep_set_wrprotect(src_mm, ...)` / `wrprotect_ptes()` "
			"on the parent, `pte_wrprotect()` on the child.",
		.scenarios = { SV },
		.judge = judge_parent_stays_writable,
	},
	{
		.id = "004-10", .seed = "004", .lines = "50-55",
		.quote = "「检查发现页表项标记为只读（但vma标记为可写）……分配新的物理页Y……复制物理页X的内容到物理页Y……更新子进程页表：虚拟页A → 物理页Y（可读写）」",
		.claim = "the writer (child or parent) faults, gets a new page Y with X's contents, "
			"mapped writable.",
		.experiment = "shared_variable step 3",
		.kernel = "`do_wp_page()` -> `wp_page_copy()`.",
		.scenarios = { SV },
		.judge = judge_writer_gets_writable_copy,
	},
	{
		.id = "004-11", .seed = "004", .lines = "56",
		.quote = "「父进程页表保持不变：虚拟页A → 物理页X（只读）」",
		.claim = "the other process's PTE is left alone: still X, read-only.",
		.experiment = "shared_variable step 3",
		.kernel = "003-6. (The article contradicts its own l.47, which had the parent writable.)",
		.scenarios = { SV },
		.judge = judge_other_keeps_readonly,
		.note = "the seed contradicts its own line 47, which had the parent's PTE writable",
	},
	{
		.id = "004-12", .seed = "004", .lines = "65",
		.quote = "「当进程首次访问某个虚拟地址时，触发缺页异常，内核才逐级分配页表结构。」",
		.claim = "the first access to an address faults, and the kernel then allocates the "
			"page-table levels.",
		.experiment = "first_touch steps 1-2 (VmPTE)",
		.kernel = "`__handle_mm_fault()`: `p4d_alloc()`, `pud_alloc()`, `pmd_alloc()`; "
			"`do_anonymous_page()`/`do_fault()` -> `pte_alloc()`. (After fork, this is how "
			"the child gets the tables of VMAs fork did not copy.)",
		.scenarios = { FT },
		.judge = judge_first_touch_tables,
	},
	{
		.id = "004-13", .seed = "004", .lines = "68-69 (51, 78-79, 82-84)",
		.quote = "「内核将共享页的页表项标记为只读，即使对应的 vma 标记为可写。这种不一致性是触发 COW 的关键机制。」 … 「进程尝试写入一个标记为只读但 vma "
			"标记为可写的页面」",
		.claim = "COW is triggered by a write to a PTE that is read-only in a VMA that is "
			"writable; the handler checks the address, the VMA's write permission and the "
			"PTE.",
		.experiment = "shared_variable steps 2-3",
		.kernel = "x86 `do_user_addr_fault()`: the VMA lookup (`find_vma()` on 5.10; "
			"`lock_mm_and_find_vma()` on 6.1 stable; `lock_vma_under_rcu()` first on "
			"6.12+), `access_error()` (no `VM_WRITE` -> SIGSEGV), then `handle_pte_fault()` "
			"-> `do_wp_page()` when `!pte_write()` and `FAULT_FLAG_WRITE`.",
		.scenarios = { SV },
		.judge = judge_ro_pte_in_writable_vma,
	},
	{
		.id = "004-14", .seed = "004", .lines = "72-73",
		.quote = "「当进程访问尚未映射的虚拟页时，触发缺页异常。异常处理程序根据缺页原因（未映射、写保护、页面不在内存等）进行相应处理。」",
		.claim = "the fault handler handles a fault according to its cause (unmapped, "
			"write-protected, not in memory).",
		.experiment = "fork_exec step 1, zero_page steps 1 and 3, shared_variable step 3, last_sharer "
			"step 4 (fault events)",
		.kernel = "`handle_pte_fault()`: `do_anonymous_page()` / `do_fault()` for `pte_none`, "
			"`do_swap_page()` for a swap entry, `do_wp_page()` for a write to a read-only "
			"present PTE.",
		.scenarios = { FE, ZP, SV, LS },
		.judge = judge_fault_by_cause,
	},
	{
		.id = "004-15", .seed = "004", .lines = "85-87, 99-105",
		.quote = "「检查该物理页的引用计数 - 如果引用计数=1，说明没有其他进程共享，只需修改页表项为可写 - 如果引用计数>1，说明有进程共享，需要执行 COW」",
		.claim = "on a write fault, refcount 1 means no one else shares the page and the PTE is "
			"just made writable; refcount > 1 means a COW copy.",
		.experiment = "pinned_write step 4, last_sharer steps 3-4",
		.kernel = "5.10: exactly this rule (`if (PageKsm(page) || page_count(page) != 1) goto "
			"copy;`, rechecked with `page_mapcount() == 1` under the page lock), except "
			"that the count is of references, not processes (pipe buffers, GUP, the swap "
			"cache, an LRU pagevec all count), and KSM pages always copy. 6.1: `if "
			"(PageAnonExclusive(page)) goto reuse;` before any count; otherwise "
			"`folio_ref_count > 3` -> copy, `lru_add_drain()` if the folio is not on the "
			"LRU yet, `folio_ref_count > 1 + swapcache` -> copy, free the swap cache under "
			"the folio lock, then reuse only at refcount 1. 6.12, 7.x: the same, in "
			"`wp_can_reuse_anon_folio()`; 6.12 never reuses a non-exclusive page of a large "
			"folio, 7.x may reuse a large folio used by this mm only "
			"(`__wp_can_reuse_large_anon_folio()`: refcount == large mapcount, mm_ids not "
			"shared). On every kernel the rule is for anonymous pages only: a private file "
			"page is always copied, the zero page always replaced.",
		.scenarios = { LS, PW },
		.judge = judge_refcount_rule,
		.changes = reuse_rule_changes,
		.note = "even where the rule holds it counts references, not processes",
	},
	{
		.id = "004-16", .seed = "004", .lines = "88-93",
		.quote = "「a. 分配新的物理页面 b. 复制原页面内容到新页面 c. 更新当前进程的页表项，指向新页面并标记为可写 d. 减少原物理页面的引用计数 …… 6. "
			"返回用户空间，重新执行导致异常的写指令」",
		.claim = "COW allocates, copies, points the current PTE at the new page writable, drops "
			"a reference on the old page, and returns to retry the write.",
		.experiment = "shared_variable step 3",
		.kernel = "`wp_page_copy()`: allocate (`alloc_page_vma()`, or "
			"`alloc_zeroed_user_highpage_movable()` for the zero page, on 5.10/6.1; "
			"`folio_prealloc()` on 6.12/7.x), `__wp_page_copy_user()`, the new PTE with "
			"`maybe_mkwrite(pte_mkdirty())` (`set_pte_at_notify()` on 5.10/6.1, "
			"`set_pte_at()` on 6.12), `page_remove_rmap()` (5.10/6.1) / "
			"`folio_remove_rmap_pte()` (6.12+) and `put_page()`/`folio_put()` of the old "
			"page; the fault returns and the instruction is retried.",
		.scenarios = { SV },
		.judge = judge_cow_steps,
	},
	{
		.id = "004-17", .seed = "004", .lines = "110",
		.quote = "「如果 fork 后立即执行 exec，子进程加载新程序，共享的页面会被新程序的页面替换，避免了不必要的复制。」",
		.claim = "fork followed at once by exec avoids needless copies: the shared pages are "
			"replaced by the new program's.",
		.experiment = "fork_exec steps 2-3 (the exec'd child too)",
		.kernel = "002-7, 001-6.",
		.scenarios = { FE },
		.judge = judge_fork_exec_copies_nothing,
	},
	{
		.id = "004-18", .seed = "004", .lines = "111",
		.quote = "「对于只读页面（如代码段），永远不需要复制，父子进程始终共享。」",
		.claim = "read-only pages such as code are never copied and always shared.",
		.experiment = "readonly_code steps 2-3",
		.kernel = "001-2; copies happen only if the page is made writable and written (002-11).",
		.scenarios = { RC },
		.judge = judge_text_shared_readonly,
	},
};

const size_t ct_nr_claims = sizeof(ct_claims) / sizeof(ct_claims[0]);
