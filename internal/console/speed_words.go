package console

// Words of the Messages page's bounded count.
func init() {
	addWords(map[string]map[string]string{
		"en": {"messages.count_more": "More than %d messages match: the newest are shown."},
		"fr": {"messages.count_more": "Plus de %d messages correspondent : les plus récents sont affichés."},
		"ar": {"messages.count_more": "تطابق أكثر من %d رسالة: تُعرض الأحدث."},
	})
}
