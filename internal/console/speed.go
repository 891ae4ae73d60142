package console

import (
	"context"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Words of the Messages page's bounded count.
func init() {
	addWords(map[string]map[string]string{
		"en": {"messages.count_more": "More than %d messages match: the newest are shown."},
		"fr": {"messages.count_more": "Plus de %d messages correspondent : les plus récents sont affichés."},
		"ar": {"messages.count_more": "تطابق أكثر من %d رسالة: تُعرض الأحدث."},
	})
	// The operator's Queue page counts at most queueCounted jobs of a kind.
	addWords(map[string]map[string]string{
		"en": {"queue.total_more": "More than %s jobs in the queue.", "queue.depth_more": "more than %s"},
		"fr": {"queue.total_more": "Plus de %s tâches dans la file.", "queue.depth_more": "plus de %s"},
		"ar": {"queue.total_more": "أكثر من %s مهمة في القائمة.", "queue.depth_more": "أكثر من %s"},
	})
}

// rareStatus is how many recipients of a status make a search by it
// start from them: up to it the list of their messages is short to build.
const rareStatus = 20000

// planStatusSearch chooses how a search by status alone runs, from the
// roll-up's count of the account's recipients with that status: few, it
// starts from them; many, it walks the newest messages (the first page
// is found at once) and counts only a page's worth beyond, since
// counting a common status means reading most of the account.
func (c *Console) planStatusSearch(ctx context.Context, accountID string, f *store.MessageFilter) {
	counts, err := c.st.DailyCounts(ctx, accountID, time.Unix(0, 0).UTC(), time.Now().UTC().Add(48*time.Hour))
	if err != nil {
		return // the default plan
	}
	n := 0
	for _, dc := range counts {
		if dc.Status == string(f.Status) {
			n += dc.Count
		}
	}
	if n <= rareStatus {
		f.StatusRare = true
		return
	}
	f.CountLimit = f.Offset + f.Limit + 1
}
