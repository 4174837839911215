/* Unit tests for the intrusive lists (core/base/list.h): order kept by
 * push_back/push_front, removal of the head, tail and middle, removal of
 * the current node while walking, and the FIFO's batch take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../core/base/list.h"

struct item {
	int v;
	struct list_node le;
	struct snode qe;
};

/* The values of l from head to tail, checked against prev links too. */
static size_t values(const struct list *l, int *out, size_t cap)
{
	size_t k = 0;
	const struct list_node *prev = NULL;
	for (const struct list_node *n = l->head; n; n = n->next) {
		assert_ptr_equal(n->prev, prev);
		assert_true(k < cap);
		out[k++] = container_of(n, struct item, le)->v;
		prev = n;
	}
	assert_ptr_equal(l->tail, prev);
	return k;
}

static void expect(const struct list *l, const int *want, size_t n)
{
	int got[16];
	assert_int_equal(values(l, got, 16), n);
	assert_int_equal(list_count(l), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
	assert_int_equal(list_empty(l), n == 0);
}

static void test_push_order(void **state)
{
	(void)state;
	struct list l = LIST_INIT;
	struct item it[4] = { { .v = 0 }, { .v = 1 }, { .v = 2 }, { .v = 3 } };
	expect(&l, NULL, 0);
	list_push_back(&l, &it[1].le);
	list_push_back(&l, &it[2].le);
	list_push_front(&l, &it[0].le);
	list_push_back(&l, &it[3].le);
	expect(&l, (int[]){ 0, 1, 2, 3 }, 4);

	struct list z;
	memset(&z, 0, sizeof(z)); /* zeroed is empty, as from calloc */
	assert_true(list_empty(&z));
	list_push_front(&z, &it[0].le);
	assert_ptr_equal(z.head, z.tail);
}

static void test_remove(void **state)
{
	(void)state;
	struct list l;
	list_init(&l);
	struct item it[5];
	for (int i = 0; i < 5; i++) {
		it[i].v = i;
		list_push_back(&l, &it[i].le);
	}
	list_remove(&l, &it[2].le); /* middle */
	assert_null(it[2].le.prev);
	assert_null(it[2].le.next);
	expect(&l, (int[]){ 0, 1, 3, 4 }, 4);
	list_remove(&l, &it[0].le); /* head */
	expect(&l, (int[]){ 1, 3, 4 }, 3);
	list_remove(&l, &it[4].le); /* tail */
	expect(&l, (int[]){ 1, 3 }, 2);
	assert_ptr_equal(list_pop_front(&l), &it[1].le);
	expect(&l, (int[]){ 3 }, 1);
	list_remove(&l, &it[3].le); /* only */
	expect(&l, NULL, 0);
	assert_null(list_pop_front(&l));
	/* a removed node can be linked again */
	list_push_back(&l, &it[2].le);
	expect(&l, (int[]){ 2 }, 1);
}

static void test_foreach_safe_removes_current(void **state)
{
	(void)state;
	struct list l = LIST_INIT;
	struct item it[6];
	for (int i = 0; i < 6; i++) {
		it[i].v = i;
		list_push_back(&l, &it[i].le);
	}
	struct list_node *n, *tmp;
	int seen = 0;
	list_foreach_safe(&l, n, tmp) {
		struct item *x = container_of(n, struct item, le);
		seen++;
		if (x->v % 2 == 0)
			list_remove(&l, n);
	}
	assert_int_equal(seen, 6);
	expect(&l, (int[]){ 1, 3, 5 }, 3);

	int sum = 0;
	list_foreach(&l, n)
		sum += container_of(n, struct item, le)->v;
	assert_int_equal(sum, 9);

	/* draining everything from inside the walk */
	list_foreach_safe(&l, n, tmp)
		list_remove(&l, n);
	expect(&l, NULL, 0);
}

static void test_two_lists_one_owner(void **state)
{
	(void)state;
	/* an owner on a list and a queue at once, through two nodes */
	struct list l = LIST_INIT;
	struct squeue q = SQUEUE_INIT;
	struct item a = { .v = 7 };
	list_push_back(&l, &a.le);
	squeue_push(&q, &a.qe);
	assert_ptr_equal(container_of(l.head, struct item, le), &a);
	assert_ptr_equal(container_of(q.head, struct item, qe), &a);
}

static void test_squeue_fifo(void **state)
{
	(void)state;
	struct squeue q;
	squeue_init(&q);
	struct item it[5];
	assert_true(squeue_empty(&q));
	assert_null(squeue_pop(&q));
	for (int i = 0; i < 5; i++) {
		it[i].v = i;
		/* only the first push finds the queue empty */
		assert_int_equal(squeue_push(&q, &it[i].qe), i == 0);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(container_of(squeue_pop(&q), struct item, qe)->v, i);
	assert_true(squeue_push(&q, &it[0].qe) == false); /* 3, 4, 0 */
	assert_int_equal(container_of(squeue_pop(&q), struct item, qe)->v, 3);
	assert_int_equal(container_of(squeue_pop(&q), struct item, qe)->v, 4);
	assert_int_equal(container_of(squeue_pop(&q), struct item, qe)->v, 0);
	assert_null(squeue_pop(&q));
	assert_null(q.tail);
	assert_true(squeue_push(&q, &it[1].qe)); /* empty again after draining */
}

static void test_squeue_take(void **state)
{
	(void)state;
	struct squeue q = SQUEUE_INIT, batch = SQUEUE_INIT;
	struct item it[6];
	for (int i = 0; i < 6; i++)
		it[i].v = i;
	squeue_take(&q, &batch); /* nothing to take */
	assert_true(squeue_empty(&batch));
	squeue_push(&q, &it[0].qe);
	squeue_push(&q, &it[1].qe);
	squeue_take(&q, &batch);
	assert_true(squeue_empty(&q));
	assert_null(q.tail);
	/* the producer goes on while the consumer works through its batch */
	assert_true(squeue_push(&q, &it[2].qe));
	squeue_push(&q, &it[3].qe);
	assert_int_equal(container_of(squeue_pop(&batch), struct item, qe)->v, 0);
	squeue_take(&q, &batch); /* appended after what is left: 1, 2, 3 */
	for (int i = 1; i <= 3; i++)
		assert_int_equal(container_of(squeue_pop(&batch), struct item, qe)->v, i);
	assert_true(squeue_empty(&batch));
	assert_null(batch.tail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_order),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_foreach_safe_removes_current),
		cmocka_unit_test(test_two_lists_one_owner),
		cmocka_unit_test(test_squeue_fifo),
		cmocka_unit_test(test_squeue_take),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
