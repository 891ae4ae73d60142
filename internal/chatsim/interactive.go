package chatsim

import "fmt"

// interactive is an interactive message object as the simulator checks it.
type interactive struct {
	Type   string `json:"type"`
	Header *struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"header"`
	Body *struct {
		Text string `json:"text"`
	} `json:"body"`
	Footer *struct {
		Text string `json:"text"`
	} `json:"footer"`
	Action *struct {
		Button  string `json:"button"`
		Buttons []struct {
			Type  string `json:"type"`
			Reply *struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"reply"`
		} `json:"buttons"`
		Sections []struct {
			Title string `json:"title"`
			Rows  []struct {
				ID          string `json:"id"`
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"rows"`
		} `json:"sections"`
	} `json:"action"`
}

func notValid(details string) graphErr {
	return graphErr{status: 400, Code: 131009, Type: "OAuthException", Message: "(#131009) Parameter value is not valid", Details: details}
}

// checkInteractive applies the Cloud API's bounds: a body of at most 1024
// characters; a text header and a footer of at most 60; 1 to 3 reply
// buttons, titles at most 20 characters, ids at most 256 and unique; a
// list's button at most 20 characters, 1 to 10 sections, at most 10 rows
// in all, row titles at most 24 characters, descriptions at most 72, ids
// at most 200 and unique, section titles (required with several) at most 24.
func checkInteractive(in *interactive) (graphErr, bool) {
	missing := func(p string) (graphErr, bool) {
		return graphErr{status: 400, Code: 131008, Type: "OAuthException", Message: "(#131008) Required parameter is missing",
			Details: "Parameter '" + p + "' is required."}, false
	}
	n := func(s string) int { return len([]rune(s)) }
	if in == nil || in.Type == "" {
		return missing("interactive.type")
	}
	if in.Body == nil || in.Body.Text == "" {
		return missing("interactive.body")
	}
	if n(in.Body.Text) > 1024 {
		return notValid("interactive.body.text must be at most 1024 characters"), false
	}
	if in.Header != nil && (in.Header.Type != "text" || n(in.Header.Text) > 60) {
		return notValid("interactive.header must be a text header of at most 60 characters"), false
	}
	if in.Footer != nil && n(in.Footer.Text) > 60 {
		return notValid("interactive.footer.text must be at most 60 characters"), false
	}
	if in.Action == nil {
		return missing("interactive.action")
	}
	ids := map[string]bool{}
	switch in.Type {
	case "button":
		b := in.Action.Buttons
		if len(b) == 0 {
			return missing("interactive.action.buttons")
		}
		if len(b) > 3 {
			return notValid("buttons: at most 3 reply buttons are allowed"), false
		}
		for i, x := range b {
			if x.Type != "reply" || x.Reply == nil || x.Reply.ID == "" || x.Reply.Title == "" {
				return notValid(fmt.Sprintf("buttons[%d] must be of type reply with an id and a title", i)), false
			}
			if n(x.Reply.Title) > 20 {
				return notValid(fmt.Sprintf("buttons[%d].reply.title must be at most 20 characters", i)), false
			}
			if n(x.Reply.ID) > 256 || ids[x.Reply.ID] {
				return notValid(fmt.Sprintf("buttons[%d].reply.id must be unique and at most 256 characters", i)), false
			}
			ids[x.Reply.ID] = true
		}
	case "list":
		if in.Action.Button == "" {
			return missing("interactive.action.button")
		}
		if n(in.Action.Button) > 20 {
			return notValid("action.button must be at most 20 characters"), false
		}
		secs := in.Action.Sections
		if len(secs) == 0 {
			return missing("interactive.action.sections")
		}
		if len(secs) > 10 {
			return notValid("sections: at most 10 sections are allowed"), false
		}
		rows := 0
		for i, sec := range secs {
			if len(secs) > 1 && sec.Title == "" || n(sec.Title) > 24 {
				return notValid(fmt.Sprintf("sections[%d].title is required with several sections and at most 24 characters", i)), false
			}
			if len(sec.Rows) == 0 {
				return missing(fmt.Sprintf("interactive.action.sections[%d].rows", i))
			}
			for j, r := range sec.Rows {
				if r.ID == "" || r.Title == "" {
					return missing(fmt.Sprintf("interactive.action.sections[%d].rows[%d].id and title", i, j))
				}
				if n(r.Title) > 24 || n(r.Description) > 72 || n(r.ID) > 200 || ids[r.ID] {
					return notValid(fmt.Sprintf("sections[%d].rows[%d]: title at most 24 characters, description at most 72, a unique id of at most 200", i, j)), false
				}
				ids[r.ID] = true
			}
			rows += len(sec.Rows)
		}
		if rows > 10 {
			return notValid(fmt.Sprintf("sections: at most 10 rows are allowed, got %d", rows)), false
		}
	default:
		return notValid(fmt.Sprintf("interactive.type %q is not supported; button or list", in.Type)), false
	}
	return graphErr{}, true
}
