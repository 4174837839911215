/*
 * Messages the daemon did not live to store: a caller was recording
 * when hookflashd was killed (SIGKILL, power loss). The worker had
 * written the audio, but the WAV header's sizes and the message's row
 * were still to come. At start-up, before any call, every msg-*.wav
 * under DATA_DIR/voicemail/<mailbox>/ that has no row gets its header
 * mended from the file's length and a row (caller unknown), so what was
 * recorded is kept and shows up in the mailbox.
 */
#include "vm.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/base/log.h"
#include "../../db/db.h"
#include "../../db/voicemail.h"

struct known {
	char (*paths)[512];
	size_t n, cap;
};

static void note_path(const struct db_vm_msg *m, void *arg)
{
	struct known *k = arg;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 32;
		char(*p)[512] = realloc(k->paths, cap * sizeof(*p));
		if (!p)
			return;
		k->paths = p;
		k->cap = cap;
	}
	snprintf(k->paths[k->n++], sizeof(k->paths[0]), "%s", m->path);
}

static bool known_path(const struct known *k, const char *path)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->paths[i], path))
			return true;
	return false;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Mends a 16-bit PCM WAV whose header lost its sizes; the audio's
 * length in ms, or 0 when this is no such file. */
static uint32_t mend_wav(const char *path)
{
	FILE *f = fopen(path, "r+b");
	if (!f)
		return 0;
	unsigned char h[44];
	struct stat st;
	uint32_t ms = 0;
	if (fread(h, 1, sizeof(h), f) == sizeof(h) && !memcmp(h, "RIFF", 4) &&
	    !memcmp(h + 8, "WAVEfmt ", 8) && !memcmp(h + 36, "data", 4) && !fstat(fileno(f), &st) &&
	    st.st_size > 44) {
		uint32_t rate = le32(h + 24), bytes_per_frame = (uint32_t)(h[32] | h[33] << 8);
		uint32_t data = (uint32_t)(st.st_size - 44);
		data -= data % (bytes_per_frame ? bytes_per_frame : 2);
		put_le32(h + 4, data + 36);
		put_le32(h + 40, data);
		if (!fseek(f, 0, SEEK_SET) && fwrite(h, 1, sizeof(h), f) == sizeof(h) && rate &&
		    bytes_per_frame)
			ms = (uint32_t)((uint64_t)data * 1000u / ((uint64_t)rate * bytes_per_frame));
	}
	fclose(f);
	return ms;
}

static void recover_mailbox(struct db *db, const char *dir, const char *mailbox)
{
	struct known k = { 0 };
	if (db_vm_msg_list(db, mailbox, note_path, &k) < 0) {
		free(k.paths);
		return;
	}
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, "msg-", 4) || len < 8 || strcmp(e->d_name + len - 4, ".wav"))
			continue;
		struct db_vm_msg m;
		memset(&m, 0, sizeof(m));
		snprintf(m.path, sizeof(m.path), "%.440s/%.64s", dir, e->d_name);
		if (known_path(&k, m.path))
			continue;
		m.duration_ms = mend_wav(m.path);
		if (m.duration_ms < VM_MSG_MIN_MS) {
			unlink(m.path);
			continue;
		}
		struct stat st;
		snprintf(m.mailbox, sizeof(m.mailbox), "%.31s", mailbox);
		snprintf(m.folder, sizeof(m.folder), "%s", DB_VM_FOLDER_NEW);
		m.received_at = stat(m.path, &st) ? 0 : (int64_t)st.st_mtime - m.duration_ms / 1000;
		if (db_vm_msg_add(db, &m))
			log_err(VM_TAG, "mailbox %s: cannot keep the interrupted message %s: %s", mailbox,
				e->d_name, db_errmsg(db));
		else
			log_warn(VM_TAG, "mailbox %s: kept a message interrupted by a stop (%u ms)", mailbox,
				 m.duration_ms);
	}
	if (d)
		closedir(d);
	free(k.paths);
}

void vm_recover(struct db *db, const char *data_dir)
{
	char top[400];
	snprintf(top, sizeof(top), "%s/voicemail", data_dir);
	DIR *d = opendir(top);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= 32)
			continue;
		char dir[440];
		snprintf(dir, sizeof(dir), "%s/%.31s", top, e->d_name);
		recover_mailbox(db, dir, e->d_name);
	}
	if (d)
		closedir(d);
}
