package sqlstore

import (
	"strings"
	"time"
)

// Helpers for set-based statements over a batch: chunks, groups, and IN
// lists whose length is rounded up so that few statement texts exist.

// inChunks calls f on items, at most size at a time.
func inChunks[T any](items []T, size int, f func([]T) error) error {
	for len(items) > 0 {
		chunk := items[:min(len(items), size)]
		items = items[len(chunk):]
		if err := f(chunk); err != nil {
			return err
		}
	}
	return nil
}

// inGroups splits items by key, in the order the keys first appear, and
// calls f on each group's items, at most size at a time.
func inGroups[K comparable, T any](items []T, key func(T) K, size int, f func(K, []T) error) error {
	groups := map[K][]T{}
	var order []K
	for _, it := range items {
		k := key(it)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], it)
	}
	for _, k := range order {
		if err := inChunks(groups[k], size, func(chunk []T) error { return f(k, chunk) }); err != nil {
			return err
		}
	}
	return nil
}

// padded is n rounded up to a power of two. Lists are padded to it by
// repeating their last element, which changes no IN (…) result, so that a
// handful of statement texts serve every length and stay prepared.
func padded(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// inList is the placeholders and arguments of an IN (…) list of ids,
// padded (see padded).
func inList[T any](ids []T) (string, []any) {
	n := padded(len(ids))
	args := make([]any, n)
	for i := range args {
		args[i] = ids[min(i, len(ids)-1)]
	}
	return placeholders(n), args
}

// valuesList is a VALUES list of n rows, padded (see padded), for
// "(a, b, …) IN (…)", and its arguments: row(i) are the values of row i.
// first is the first row as written, with the CASTs PostgreSQL needs to
// type the columns (e.g. "(?, CAST(? AS BIGINT), ?)"); the others are
// plain placeholders.
func valuesList(n int, first string, row func(i int) []any) (string, []any) {
	cols := strings.Count(first, "?")
	rest := ", (" + placeholders(cols) + ")"
	p := padded(n)
	var b strings.Builder
	b.WriteString("VALUES ")
	b.WriteString(first)
	args := make([]any, 0, cols*p)
	for i := range p {
		if i > 0 {
			b.WriteString(rest)
		}
		args = append(args, row(min(i, n-1))...)
	}
	return b.String(), args
}

// counts is how many of the items have each key: a key counted more than
// once names, e.g., a row that one set-based statement cannot change twice.
func counts[T any, K comparable](items []T, key func(T) K) map[K]int {
	n := make(map[K]int, len(items))
	for _, it := range items {
		n[key(it)]++
	}
	return n
}

// latest is the latest of the items' times.
func latest[T any](items []T, at func(T) time.Time) time.Time {
	var t time.Time
	for _, it := range items {
		if a := at(it); a.After(t) {
			t = a
		}
	}
	return t
}
