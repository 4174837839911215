/*
 * Intrusive lists: the node lives inside its owner (as in libre and the
 * Linux kernel), so linking and unlinking never allocate and an owner can
 * be on several lists at once through several nodes. Header-only.
 *
 * Two shapes:
 *
 *   struct list / struct list_node  doubly linked, O(1) removal of any
 *       node. For sets whose members leave in any order: a registrar's
 *       bindings, a worker's calls, an LRU.
 *   struct squeue / struct snode    singly linked FIFO, O(1) push at the
 *       tail and pop at the head, and "take everything queued so far" in
 *       one step. For producer/consumer queues drained in batches under a
 *       mutex (the loop's posts, the store's jobs, media events).
 *
 * Both heads are valid when zeroed (calloc, `= {0}`), so an owner made by
 * calloc needs no init call. Neither is thread-safe: a queue shared by
 * threads is pushed and taken under the owner's mutex.
 *
 * Use:
 *     struct binding { struct list_node le; ... };
 *     struct aor { struct list bindings; ... };
 *
 *     list_push_front(&a->bindings, &b->le);
 *     struct list_node *n, *tmp;
 *     list_foreach_safe(&a->bindings, n, tmp) {
 *             struct binding *b = container_of(n, struct binding, le);
 *             if (expired(b))
 *                     list_remove(&a->bindings, &b->le);  // allowed here
 *     }
 *
 * A node belongs to at most one list at a time and list_remove must be
 * given the list the node is on (the owner always knows it; storing it in
 * every node would cost a pointer each). After list_remove the node's
 * pointers are NULL.
 */
#ifndef HF_LIST_H
#define HF_LIST_H

#include <stdbool.h>
#include <stddef.h>

#ifndef container_of
/* The struct of type `type` whose member `member` is at `ptr`. ptr must
 * not be NULL. */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

/* --- doubly linked list --------------------------------------------------- */

struct list_node {
	struct list_node *prev, *next;
};

struct list {
	struct list_node *head, *tail;
};

#define LIST_INIT { NULL, NULL }

static inline void list_init(struct list *l)
{
	l->head = l->tail = NULL;
}

static inline bool list_empty(const struct list *l)
{
	return l->head == NULL;
}

static inline void list_push_back(struct list *l, struct list_node *n)
{
	n->next = NULL;
	n->prev = l->tail;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

static inline void list_push_front(struct list *l, struct list_node *n)
{
	n->prev = NULL;
	n->next = l->head;
	if (l->head)
		l->head->prev = n;
	else
		l->tail = n;
	l->head = n;
}

/* Unlinks n, which must be on l. */
static inline void list_remove(struct list *l, struct list_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

/* Unlinks and returns the first node; NULL when l is empty. */
static inline struct list_node *list_pop_front(struct list *l)
{
	struct list_node *n = l->head;
	if (n)
		list_remove(l, n);
	return n;
}

/* O(n): for statistics and tests, not for hot paths. */
static inline size_t list_count(const struct list *l)
{
	size_t k = 0;
	for (const struct list_node *n = l->head; n; n = n->next)
		k++;
	return k;
}

/* Walks l from head to tail with n (a struct list_node * the caller
 * declared). The body must not remove n; use list_foreach_safe for that. */
#define list_foreach(l, n) for ((n) = (l)->head; (n); (n) = (n)->next)

/* As list_foreach, but the body may remove (and free) n. It must not
 * remove the node after n, which tmp already holds. */
#define list_foreach_safe(l, n, tmp) \
	for ((n) = (l)->head; (n) && ((tmp) = (n)->next, 1); (n) = (tmp))

/* --- singly linked FIFO ---------------------------------------------------- */

struct snode {
	struct snode *next;
};

struct squeue {
	struct snode *head, *tail;
};

#define SQUEUE_INIT { NULL, NULL }

static inline void squeue_init(struct squeue *q)
{
	q->head = q->tail = NULL;
}

static inline bool squeue_empty(const struct squeue *q)
{
	return q->head == NULL;
}

/* Appends n; returns true when q was empty before (the producer's cue to
 * wake the consumer, which drains everything once woken). */
static inline bool squeue_push(struct squeue *q, struct snode *n)
{
	bool was_empty = q->head == NULL;
	n->next = NULL;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	return was_empty;
}

/* Unlinks and returns the oldest node; NULL when q is empty. */
static inline struct snode *squeue_pop(struct squeue *q)
{
	struct snode *n = q->head;
	if (n) {
		q->head = n->next;
		if (!q->head)
			q->tail = NULL;
		n->next = NULL;
	}
	return n;
}

/* Moves everything in q, in order, to the end of out and leaves q empty:
 * the consumer takes the batch under its mutex and pops from out without
 * it. */
static inline void squeue_take(struct squeue *q, struct squeue *out)
{
	if (!q->head)
		return;
	if (out->tail)
		out->tail->next = q->head;
	else
		out->head = q->head;
	out->tail = q->tail;
	q->head = q->tail = NULL;
}

#endif
