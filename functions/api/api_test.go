package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJobDisplay(t *testing.T) {
	cases := []struct {
		job       Job
		html, txt []string
	}{
		{Job{ID: "a1", Function: "upper", Status: StatusRunning, Progress: 0.25, Note: "step <2>", Attempts: 1, MaxAttempts: 3},
			[]string{"width:25%", "step &lt;2&gt;", "<b>running</b>"}, []string{"running, 25%", "step <2>"}},
		{Job{ID: "a2", Function: "upper", Status: StatusSucceeded, Progress: 1, Result: json.RawMessage(`{"upper":"HI"}`), Attempts: 1, MaxAttempts: 3},
			[]string{"width:100%", "&#34;upper&#34;: &#34;HI&#34;"}, []string{`"upper": "HI"`}},
		{Job{ID: "a3", Function: "loop", Status: StatusDead, Error: "gave up", ErrorKind: KindTimeout, Attempts: 2, MaxAttempts: 2},
			[]string{"timeout: gave up"}, []string{"timeout: gave up"}},
	}
	for _, tc := range cases {
		b := tc.job.DisplayBundle()
		h, _ := b["text/html"].(string)
		p, _ := b["text/plain"].(string)
		for _, w := range tc.html {
			if !strings.Contains(h, w) {
				t.Errorf("%s: html lacks %q:\n%s", tc.job.ID, w, h)
			}
		}
		for _, w := range tc.txt {
			if !strings.Contains(p, w) {
				t.Errorf("%s: text lacks %q:\n%s", tc.job.ID, w, p)
			}
		}
	}
}
