package backupkeys

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A journal whose last line was cut short by a crash reads without it; a
// damaged line before the last is an error naming it.
func TestJournalTornLine(t *testing.T) {
	dir := t.TempDir()
	for _, a := range []string{"a1", "a2"} {
		if n, err := Append([]string{dir, filepath.Join(dir, "missing")}, Entry{Kind: KindShred, At: time.Now(), Account: a, Keys: []string{"k-" + a}}); err != nil || n != 1 {
			t.Fatalf("Append = %d, %v", n, err)
		}
	}
	f, _ := os.OpenFile(JournalPath(dir), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"kind":"erase","at":"2026`)
	f.Close()
	got, err := ReadJournal(JournalPath(dir))
	if err != nil || len(got) != 2 || !ShreddedKeys(got)["k-a2"] {
		t.Fatalf("ReadJournal = %+v, %v", got, err)
	}
	b, _ := os.ReadFile(JournalPath(dir))
	os.WriteFile(JournalPath(dir), []byte("not json\n"+string(b)), 0o600)
	if _, err := ReadJournal(JournalPath(dir)); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("a damaged line: %v", err)
	}
}

// Shreds rewriting keys files while others are appended and dropped at
// once lose no change: every file ends without every dropped key.
func TestDropKeysConcurrent(t *testing.T) {
	dir := t.TempDir()
	var keys []Key
	for i := 0; i < 20; i++ {
		keys = append(keys, Key{ID: string(rune('a' + i)), MasterID: "m", Scope: "s", Wrapped: []byte{1, 2, byte(i)}})
	}
	for i := 0; i < 5; i++ {
		if err := Write(filepath.Join(dir, "omnigate-sqlite-2026120"+string(rune('1'+i))+"T000000Z-s058.db.keys"), &File{Keys: keys}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, k := range keys[:10] {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if _, err := DropKeys([]string{dir}, map[string]bool{id: true}); err != nil {
				t.Error(err)
			}
		}(k.ID)
	}
	wg.Wait()
	entries, _ := os.ReadDir(dir)
	files := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), Suffix) {
			continue
		}
		files++
		f, err := Read(filepath.Join(dir, e.Name()))
		if err != nil || len(f.Keys) != 10 || f.Keys[0].ID != keys[10].ID {
			t.Fatalf("%s: %d keys, %v", e.Name(), len(f.Keys), err)
		}
	}
	if files != 5 {
		t.Fatalf("%d keys files", files)
	}
}
