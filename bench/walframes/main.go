// Command walframes shows what each commit of a running omnigate's SQLite
// database writes: it reads the database's write-ahead log a few times while
// the load runs and counts the frames (one per page written) by the table or
// index that owns the page.
//
// Under synchronous=FULL every commit writes each page it changed to the
// WAL and syncs it, so frames per commit is what a commit costs beyond its
// statements; the tables at the top are where fewer pages would pay.
//
//	go run ./bench/walframes -db DATA/omnigate.db -samples 8 -every 1.5s
//
// Frames are told apart by the log's salt and their offset, so a frame seen
// in two samples counts once. Page numbers are mapped to tables and indexes
// through SQLite's dbstat table at the end; a page freed and reused
// meanwhile is counted under its last owner.
package main

import (
	"database/sql"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	_ "modernc.org/sqlite"
)

func main() {
	db := flag.String("db", "", "the SQLite database file (its log is the file with -wal appended)")
	samples := flag.Int("samples", 8, "how many times to read the log")
	every := flag.Duration("every", 1500*time.Millisecond, "time between reads")
	flag.Parse()
	if *db == "" {
		fmt.Fprintln(os.Stderr, "walframes: -db is required")
		os.Exit(2)
	}
	frames := map[frameKey]uint32{} // frame → page number
	commits := map[frameKey]bool{}
	for i := 0; i < *samples; i++ {
		if i > 0 {
			time.Sleep(*every)
		}
		b, err := os.ReadFile(*db + "-wal")
		if err != nil {
			fmt.Fprintln(os.Stderr, "walframes:", err)
			os.Exit(1)
		}
		readLog(b, frames, commits)
	}
	owners, err := pageOwners(*db)
	if err != nil {
		fmt.Fprintln(os.Stderr, "walframes:", err)
		os.Exit(1)
	}
	count := map[string]int{}
	for _, pg := range frames {
		name, ok := owners[pg]
		if !ok {
			name = "(free or new page)"
		}
		count[name]++
	}
	names := make([]string, 0, len(count))
	for n := range count {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return count[names[i]] > count[names[j]] })
	fmt.Printf("%d frames in %d commits: %.1f pages per commit\n", len(frames), len(commits), float64(len(frames))/float64(max(len(commits), 1)))
	for _, n := range names {
		fmt.Printf("%7d %5.1f%%  %s\n", count[n], 100*float64(count[n])/float64(len(frames)), n)
	}
}

// frameKey names one frame of one generation of the log.
type frameKey struct {
	salt1, salt2 uint32
	offset       int
}

// readLog adds the frames of one read of the log: those after the 32-byte
// header that carry the header's salt (older frames past them belong to an
// earlier generation of the log and are not part of it any more).
func readLog(b []byte, frames map[frameKey]uint32, commits map[frameKey]bool) {
	if len(b) < 32 {
		return
	}
	pageSize := int(binary.BigEndian.Uint32(b[8:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	salt1, salt2 := binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:])
	for off := 32; off+24+pageSize <= len(b); off += 24 + pageSize {
		h := b[off : off+24]
		if binary.BigEndian.Uint32(h[8:]) != salt1 || binary.BigEndian.Uint32(h[12:]) != salt2 {
			return
		}
		k := frameKey{salt1, salt2, off}
		frames[k] = binary.BigEndian.Uint32(h[0:])
		if binary.BigEndian.Uint32(h[4:]) != 0 { // the database's size after a commit
			commits[k] = true
		}
	}
}

// pageOwners maps each page of the database to its table or index.
func pageOwners(path string) (map[uint32]string, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, pageno FROM dbstat`)
	if err != nil {
		return nil, fmt.Errorf("reading dbstat: %w", err)
	}
	defer rows.Close()
	out := map[uint32]string{}
	for rows.Next() {
		var name string
		var pg uint32
		if err := rows.Scan(&name, &pg); err != nil {
			return nil, err
		}
		out[pg] = name
	}
	return out, rows.Err()
}
