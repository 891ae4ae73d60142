package console

import (
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// The Realtime apps page: the account's Pusher-compatible apps (each is
// also the Beams instance of the same id), with the key and id clients
// need (never the secret), their settings, the messages of today and the
// connections open on this node; and, as Beams instances, their own push
// credentials (named by topic and project, never the keys) and the
// month's publishes against their quota.

func init() {
	pageNames = append(pageNames, "realtime")
}

// UseConnections gives the console the number of an app's connections
// open on this node (realtime.Server.AppConnections); without it the
// page shows none.
func (c *Console) UseConnections(f func(appID string) int) { c.conns = f }

func (c *Console) registerRealtime(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/realtime", c.signed(users.ViewRealtime, c.realtimeApps))
}

type realtimeRow struct {
	*store.RealtimeApp
	Today       int64
	Connections int // -1: unknown
	// APNsTopic and FCMProject name the instance's own push credentials
	// ("": the platform's); Publishes of MaxPublishes (0: no quota) this
	// UTC month.
	APNsTopic, FCMProject   string
	Publishes, MaxPublishes int64
}

type realtimeData struct {
	Apps []realtimeRow
}

func (c *Console) realtimeApps(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	rs, ok := c.st.(store.Realtime)
	if !ok { // every engine has realtime apps; a store without shows none
		c.render(q.w, http.StatusOK, "realtime", q.page("title.realtime", &realtimeData{}))
		return
	}
	apps, err := rs.ListRealtimeApps(ctx, q.user.AccountID)
	if c.storeFailed(q, err) {
		return
	}
	d := &realtimeData{}
	now := time.Now()
	for _, a := range apps {
		r := realtimeRow{RealtimeApp: a, Connections: -1}
		// Adding 0 reads the day's count (one indexed row per app).
		if r.Today, err = rs.AddRealtimeMessages(ctx, a.ID, now, 0); c.storeFailed(q, err) {
			return
		}
		if c.conns != nil {
			r.Connections = c.conns(a.ID)
		}
		if ps, ok := c.st.(store.Push); ok {
			creds, err := ps.PushCredentials(ctx, a.ID)
			if c.storeFailed(q, err) {
				return
			}
			if creds.APNs != nil {
				r.APNsTopic = creds.APNs.Topic
			}
			if creds.FCM != nil {
				r.FCMProject = creds.FCM.ProjectID
			}
			if r.MaxPublishes, r.Publishes, err = ps.PushQuota(ctx, a.ID, now); c.storeFailed(q, err) {
				return
			}
		}
		a.Secret, a.PreviousSecret = "", "" // never on a page
		d.Apps = append(d.Apps, r)
	}
	c.render(q.w, http.StatusOK, "realtime", q.page("title.realtime", d))
}

func init() {
	addWords(map[string]map[string]string{
		"en": {
			"nav.realtime": "Realtime apps", "title.realtime": "Realtime apps",
			"realtime.help": "Each app works with Pusher's client libraries (set wsHost to this server) and is also the Beams instance of the same id. Apps are made and changed with the API (/realtime/apps); their secret is shown only then.",
			"realtime.none": "The account has no realtime app.",
			"col.app_id":    "App id", "col.key": "Key", "col.enabled": "Enabled", "col.max_connections": "Connection limit", "col.max_messages": "Messages per day limit",
			"col.today": "Messages today", "col.connections": "Connections here", "col.subscription_count": "Subscription counts", "col.webhook": "Webhook",
			"realtime.unlimited":   "none",
			"col.push_credentials": "Push credentials", "col.publishes": "Publishes this month",
			"realtime.push_default": "the platform's", "realtime.of": "of",
			"realtime.apns": "APNs:", "realtime.fcm": "FCM:",
		},
		"fr": {
			"nav.realtime": "Applications temps réel", "title.realtime": "Applications temps réel",
			"realtime.help": "Chaque application fonctionne avec les bibliothèques clientes de Pusher (wsHost pointant vers ce serveur) et sert aussi d’instance Beams de même identifiant. Les applications se créent et se modifient par l’API (/realtime/apps) ; leur secret n’est affiché qu’à ce moment-là.",
			"realtime.none": "Le compte n’a aucune application temps réel.",
			"col.app_id":    "Identifiant", "col.key": "Clé", "col.enabled": "Active", "col.max_connections": "Limite de connexions", "col.max_messages": "Limite de messages par jour",
			"col.today": "Messages aujourd’hui", "col.connections": "Connexions ici", "col.subscription_count": "Comptes d’abonnés", "col.webhook": "Webhook",
			"realtime.unlimited":   "aucune",
			"col.push_credentials": "Identifiants push", "col.publishes": "Publications ce mois-ci",
			"realtime.push_default": "ceux de la plateforme", "realtime.of": "sur",
			"realtime.apns": "APNs :", "realtime.fcm": "FCM :",
		},
		"ar": {
			"nav.realtime": "تطبيقات الوقت الفعلي", "title.realtime": "تطبيقات الوقت الفعلي",
			"realtime.help": "يعمل كل تطبيق مع مكتبات Pusher للعملاء (اضبط wsHost على هذا الخادم)، وهو أيضًا مثيل Beams بالمعرّف نفسه. تُنشأ التطبيقات وتُعدَّل عبر واجهة API ‏(/realtime/apps)، ولا يُعرض سرّها إلا حينها.",
			"realtime.none": "ليس للحساب أي تطبيق للوقت الفعلي.",
			"col.app_id":    "معرّف التطبيق", "col.key": "المفتاح", "col.enabled": "مفعّل", "col.max_connections": "حد الاتصالات", "col.max_messages": "حد الرسائل اليومي",
			"col.today": "رسائل اليوم", "col.connections": "الاتصالات هنا", "col.subscription_count": "أعداد الاشتراكات", "col.webhook": "خطاف الويب",
			"realtime.unlimited":   "بلا حد",
			"col.push_credentials": "بيانات اعتماد الإشعارات", "col.publishes": "منشورات هذا الشهر",
			"realtime.push_default": "بيانات المنصة", "realtime.of": "من",
			"realtime.apns": "APNs:", "realtime.fcm": "FCM:",
		},
	})
}
