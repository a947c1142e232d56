// SPDX-License-Identifier: GPL-2.0
/*
 * cowtrace: watch copy-on-write happen, page by page.
 *
 * Everything lives under /sys/kernel/debug/cowtrace/: 'ctl' takes the ioctls
 * of include/uapi/linux/cowtrace.h, the other files are text views.  The
 * module keeps no state between calls but the target of the text views and
 * the one trace session (trace.c) with its event ring (ring.c).
 */
#include <linux/build_bug.h>
#include <linux/debugfs.h>
#include <linux/module.h>

#include "cowtrace.h"

/* The ABI promises these sizes; docs/abi.md documents the layouts. */
static_assert(sizeof(struct cowtrace_page) == 32);
static_assert(sizeof(struct cowtrace_vma) == 64);
static_assert(sizeof(struct cowtrace_version) == 40);
static_assert(sizeof(struct cowtrace_page_run) == 40);
static_assert(sizeof(struct cowtrace_mm_info) == 112);
static_assert(sizeof(struct cowtrace_snapshot) == 96);
static_assert(sizeof(struct cowtrace_event) == 96);
static_assert(sizeof(struct cowtrace_trace_start) == 96);
static_assert(sizeof(struct cowtrace_trace_read) == 128);
static_assert(sizeof(struct cowtrace_trace_stop) == 16);

static struct dentry *cowtrace_dir;

static int __init cowtrace_init(void)
{
	cowtrace_dir = debugfs_create_dir("cowtrace", NULL);
	if (IS_ERR(cowtrace_dir))
		return PTR_ERR(cowtrace_dir);
	debugfs_create_file_unsafe("ctl", 0600, cowtrace_dir, NULL,
				   &cowtrace_ctl_fops);
	cowtrace_text_init(cowtrace_dir);
	cowtrace_events_init(cowtrace_dir);
	return 0;
}

static void __exit cowtrace_exit(void)
{
	/* waits for every open file's in-flight operation to finish */
	debugfs_remove_recursive(cowtrace_dir);
	/* a session started through the 'trace' file outlives every file */
	cowtrace_trace_exit();
	cowtrace_text_exit();
}

module_init(cowtrace_init);
module_exit(cowtrace_exit);

MODULE_DESCRIPTION("cowtrace: watch copy-on-write in the page tables");
MODULE_AUTHOR("cowtrace developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
