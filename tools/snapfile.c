// SPDX-License-Identifier: GPL-2.0
/* Reading and writing snapshot files (see snapfile.h, docs/file-format.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "snapfile.h"

/* Output: a growing buffer, flushed once; input: a bounded cursor. */
struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

struct rbuf {
	const unsigned char *p;
	size_t len, pos;
	int bad;
};

static void put(struct wbuf *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		unsigned char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put_le(struct wbuf *b, uint64_t v, int bytes)
{
	unsigned char tmp[8];

	for (int i = 0; i < bytes; i++)
		tmp[i] = (unsigned char)(v >> (8 * i));
	put(b, tmp, bytes);
}

static void put_varint(struct wbuf *b, uint64_t v)
{
	unsigned char tmp[10];
	int n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	put(b, tmp, n);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static uint64_t get_le(struct rbuf *b, int bytes)
{
	uint64_t v = 0;

	if (b->pos + bytes > b->len) {
		b->bad = 1;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)b->p[b->pos + i] << (8 * i);
	b->pos += bytes;
	return v;
}

static uint64_t get_varint(struct rbuf *b)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		unsigned char c;

		if (b->pos >= b->len)
			break;
		c = b->p[b->pos++];
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	b->bad = 1;
	return 0;
}

/* n varints with no bounds check: the caller made sure 10 * n bytes remain. */
static inline void get_varints_unchecked(struct rbuf *b, uint64_t *v, int n)
{
	const unsigned char *p = b->p + b->pos;

	for (int k = 0; k < n; k++) {
		uint64_t x = *p++;

		if (x & 0x80) {
			x &= 0x7f;
			for (int shift = 7;; shift += 7) {
				unsigned char c = *p++;

				x |= (uint64_t)(c & 0x7f) << shift;
				if (!(c & 0x80))
					break;
				if (shift >= 63) {	/* an 11th byte: corrupt */
					b->bad = 1;
					break;
				}
			}
		}
		v[k] = x;
	}
	b->pos = p - b->p;
}

/* FNV-1a: catches truncation and corruption, not tampering. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Is @r the page after @p in a run: next address, next PFN, all else equal? */
static int continues_run(const struct cowtrace_page *p,
			 const struct cowtrace_page *r, uint64_t page_size)
{
	return r->addr == p->addr + page_size && r->pfn == p->pfn + 1 &&
	       r->flags == p->flags && r->refcount == p->refcount &&
	       r->mapcount == p->mapcount &&
	       r->folio_mapcount == p->folio_mapcount;
}

static void put_mm(struct wbuf *b, const struct cowtrace_mm_info *m)
{
	const uint32_t u32s[] = { m->tgid, m->map_count, m->mm_users, m->mm_count };
	const uint64_t u64s[] = { m->rss_anon, m->rss_file, m->rss_shmem,
				  m->swap_ents, m->pgtables_bytes,
				  m->hiwater_rss, m->total_vm, m->task_size };

	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		put_le(b, u32s[i], 4);
	put(b, m->comm, sizeof(m->comm));
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		put_le(b, u64s[i], 8);
}

static void get_mm(struct rbuf *b, struct cowtrace_mm_info *m)
{
	uint32_t *u32s[] = { &m->tgid, &m->map_count, &m->mm_users, &m->mm_count };
	__u64 *u64s[] = { &m->rss_anon, &m->rss_file, &m->rss_shmem,
			     &m->swap_ents, &m->pgtables_bytes,
			     &m->hiwater_rss, &m->total_vm, &m->task_size };

	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		*u32s[i] = get_le(b, 4);
	if (b->pos + sizeof(m->comm) > b->len) {
		b->bad = 1;
		return;
	}
	memcpy(m->comm, b->p + b->pos, sizeof(m->comm));
	m->comm[sizeof(m->comm) - 1] = 0;
	b->pos += sizeof(m->comm);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		*u64s[i] = get_le(b, 8);
}

int ct_file_write(FILE *f, const struct ct_snapshot *s, struct ct_error *err)
{
	struct wbuf b = { 0 };
	const struct cowtrace_page *prev = NULL;
	size_t klen = strnlen(s->kernel, sizeof(s->kernel) - 1);

	put(&b, CT_FILE_MAGIC, 8);
	put_le(&b, CT_FILE_VERSION, 4);
	put_le(&b, 0, 4);	/* flags */
	put_le(&b, s->pid, 4);
	put_le(&b, s->source, 4);
	put_le(&b, s->unavailable, 4);
	put_le(&b, s->page_size, 4);
	put_le(&b, s->time_ns, 8);
	put_le(&b, s->start, 8);
	put_le(&b, s->end, 8);
	put_varint(&b, klen);
	put(&b, s->kernel, klen);
	put_mm(&b, &s->mm);
	put_le(&b, s->nr_vmas, 8);
	put_le(&b, s->names_len, 8);
	put_le(&b, s->nr_pages, 8);
	for (size_t i = 0; i < s->nr_vmas; i++) {
		const struct cowtrace_vma *v = &s->vmas[i];

		put_le(&b, v->start, 8);
		put_le(&b, v->end, 8);
		put_le(&b, v->pgoff, 8);
		put_le(&b, v->vm_flags, 8);
		put_le(&b, v->ino, 8);
		put_le(&b, v->dev, 4);
		put_le(&b, v->flags, 4);
		put_le(&b, v->backing, 4);
		put_le(&b, v->name_off, 4);
		put_le(&b, v->name_len, 4);
	}
	put(&b, s->names, s->names_len);
	/*
	 * Runs of pages each like the one before (next address, next PFN,
	 * the rest equal): their length, then the first page's fields as the
	 * difference from the page before the run, mostly 0 or 1.
	 */
	for (size_t i = 0, n; i < s->nr_pages; i += n) {
		const struct cowtrace_page *r = &s->pages[i];
		uint64_t paddr = prev ? prev->addr + s->page_size : 0;

		for (n = 1; i + n < s->nr_pages &&
			    continues_run(&s->pages[i + n - 1], &s->pages[i + n],
					  s->page_size);
		     n++)
			;
		put_varint(&b, n);
		put_varint(&b, (r->addr - paddr) / s->page_size);
		put_varint(&b, zigzag((int64_t)(r->pfn - (prev ? prev->pfn + 1 : 0))));
		put_varint(&b, r->flags ^ (prev ? prev->flags : 0));
		put_varint(&b, zigzag((int64_t)r->refcount - (prev ? prev->refcount : 0)));
		put_varint(&b, zigzag((int64_t)r->mapcount - (prev ? prev->mapcount : 0)));
		put_varint(&b, zigzag((int64_t)r->folio_mapcount -
				      (prev ? prev->folio_mapcount : 0)));
		prev = &s->pages[i + n - 1];
	}
	put_le(&b, fnv1a(b.p, b.len), 8);
	if (b.oom) {
		free(b.p);
		ct_set_error(err, ENOMEM, "out of memory");
		return -1;
	}
	if (fwrite(b.p, 1, b.len, f) != b.len || fflush(f)) {
		free(b.p);
		ct_set_error(err, errno, "writing the snapshot failed: %s",
			     strerror(errno));
		return -1;
	}
	free(b.p);
	return 0;
}

static unsigned char *slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0, got;
	unsigned char *p;
	struct stat st;

	/* a file: one buffer of its size (and a byte to see EOF), one read */
	if (fileno(f) >= 0 && !fstat(fileno(f), &st) && S_ISREG(st.st_mode) &&
	    st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX / 2)
		cap = st.st_size + 1;
	p = ct_alloc_big(cap);

	while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			unsigned char *q = realloc(p, cap *= 2);

			if (!q) {
				free(p);
				return NULL;
			}
			p = q;
		}
	}
	*len = n;
	return p;
}

int ct_file_read(FILE *f, struct ct_snapshot *s, struct ct_error *err)
{
	struct rbuf b = { 0 };
	unsigned char *data;
	uint64_t nv, nn, np, klen, sum;
	const struct cowtrace_page *prev = NULL;
	unsigned int version;
	int nfields;
	size_t len;

	memset(s, 0, sizeof(*s));
	data = slurp(f, &len);
	if (!data) {
		ct_set_error(err, ENOMEM, "out of memory");
		return -1;
	}
	b.p = data;
	b.len = len;
	if (len < 16 || memcmp(data, CT_FILE_MAGIC, 8)) {
		ct_set_error(err, EINVAL, "not a cowtrace snapshot (bad magic)");
		goto bad;
	}
	b.pos = 8;
	version = get_le(&b, 4);
	if (version != CT_FILE_VERSION && version != 1) {
		ct_set_error(err, EINVAL,
			     "snapshot file version %u is not supported (this cowtrace reads versions 1 to %d)",
			     version, CT_FILE_VERSION);
		goto bad;
	}
	b.pos = len - 8;
	sum = get_le(&b, 8);
	b.pos = 12;
	if (sum != fnv1a(data, len - 8)) {
		ct_set_error(err, EINVAL, "snapshot file is truncated or corrupt (checksum mismatch)");
		goto bad;
	}
	b.len = len - 8;
	get_le(&b, 4);	/* flags */
	s->pid = get_le(&b, 4);
	s->source = get_le(&b, 4);
	s->unavailable = get_le(&b, 4);
	s->page_size = get_le(&b, 4);
	s->time_ns = get_le(&b, 8);
	s->start = get_le(&b, 8);
	s->end = get_le(&b, 8);
	klen = get_varint(&b);
	if (klen >= sizeof(s->kernel) || b.pos + klen > b.len)
		goto corrupt;
	memcpy(s->kernel, b.p + b.pos, klen);
	b.pos += klen;
	get_mm(&b, &s->mm);
	s->mm.pid = s->pid;
	nv = get_le(&b, 8);
	nn = get_le(&b, 8);
	np = get_le(&b, 8);
	/*
	 * Bounds before allocating: a version 1 record is at least 6 bytes;
	 * a version 2 run can stand for many pages, all inside the range.
	 */
	if (b.bad || !s->page_size || nv > b.len / 60 || nn > b.len ||
	    s->end < s->start ||
	    np > (version == 1 ? b.len : (s->end - s->start) / s->page_size))
		goto corrupt;
	s->vmas = calloc(nv ? nv : 1, sizeof(*s->vmas));
	s->names = malloc(nn ? nn : 1);
	s->pages = ct_alloc_pages(np);	/* every record is written below */
	if (!s->vmas || !s->names || !s->pages) {
		ct_set_error(err, ENOMEM, "out of memory");
		goto bad;
	}
	for (size_t i = 0; i < nv; i++) {
		struct cowtrace_vma *v = &s->vmas[i];

		v->start = get_le(&b, 8);
		v->end = get_le(&b, 8);
		v->pgoff = get_le(&b, 8);
		v->vm_flags = get_le(&b, 8);
		v->ino = get_le(&b, 8);
		v->dev = get_le(&b, 4);
		v->flags = get_le(&b, 4);
		v->backing = get_le(&b, 4);
		v->name_off = get_le(&b, 4);
		v->name_len = get_le(&b, 4);
		if (v->name_len && (uint64_t)v->name_off + v->name_len >= nn)
			goto corrupt;
		if (v->start >= v->end || (i && v->start < s->vmas[i - 1].end))
			goto corrupt;
	}
	s->nr_vmas = nv;
	if (b.pos + nn > b.len)
		goto corrupt;
	memcpy(s->names, b.p + b.pos, nn);
	b.pos += nn;
	s->names_len = nn;
	/* version 1 has no run lengths: every record is a run of one */
	nfields = version == 1 ? 6 : 7;
	for (size_t i = 0; i < np && !b.bad;) {
		struct cowtrace_page *r = &s->pages[i];
		static const struct cowtrace_page none = { .pfn = (uint64_t)-1 };
		const struct cowtrace_page *p = prev ? prev : &none;
		uint64_t v[7] = { 1 }, *f = nfields == 7 ? v : v + 1;

		/*
		 * Varints, nearly all one byte (the deltas are 0 or 1): the
		 * fast path, when a whole record's worst case fits before
		 * the end, checks no bounds per byte.
		 */
		if (b.pos + nfields * 10 <= b.len)
			get_varints_unchecked(&b, f, nfields);
		else
			for (int k = 0; k < nfields; k++)
				f[k] = get_varint(&b);
		if (!v[0] || v[0] > np - i)
			goto corrupt;
		r->addr = (prev ? prev->addr + s->page_size : 0) + v[1] * s->page_size;
		r->pfn = p->pfn + 1 + unzigzag(v[2]);
		r->flags = (uint32_t)v[3] ^ p->flags;
		r->refcount = p->refcount + unzigzag(v[4]);
		r->mapcount = p->mapcount + unzigzag(v[5]);
		r->folio_mapcount = p->folio_mapcount + unzigzag(v[6]);
		if (prev && r->addr <= prev->addr)
			goto corrupt;
		ct_expand_run(r, v[0], 1, s->page_size);
		i += v[0];
		prev = &s->pages[i - 1];
	}
	s->nr_pages = np;
	if (b.bad || b.pos != b.len)
		goto corrupt;
	free(data);
	return 0;
corrupt:
	ct_set_error(err, EINVAL, "snapshot file is corrupt");
bad:
	free(data);
	ct_snapshot_free(s);
	return -1;
}

int ct_file_save(const char *path, const struct ct_snapshot *s,
		 struct ct_error *err)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f) {
		ct_set_error(err, errno, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	ret = ct_file_write(f, s, err);
	if (fclose(f) && !ret) {
		ct_set_error(err, errno, "cannot write %s: %s", path, strerror(errno));
		ret = -1;
	}
	return ret;
}

int ct_file_load(const char *path, struct ct_snapshot *s, struct ct_error *err)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f) {
		ct_set_error(err, errno, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	ret = ct_file_read(f, s, err);
	fclose(f);
	if (ret) {
		char msg[sizeof(err->msg)];
		int n = snprintf(msg, sizeof(msg), "%s: ", path);

		if (n > 0 && (size_t)n < sizeof(msg))
			snprintf(msg + n, sizeof(msg) - n, "%.*s",
				 (int)(sizeof(msg) - n - 1), err->msg);
		memcpy(err->msg, msg, sizeof(msg));
	}
	return ret;
}
