package views

import (
	"bytes"
	"context"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestPagerLinks(t *testing.T) {
	q := map[string][]string{"q": {"sensor"}}
	for _, tc := range []struct {
		name      string
		pager     Pager
		wantFirst string // "" means no link
		wantNext  string
		firstText string
		nextText  string
	}{
		{"first page with more", listPager(true, "/orgs/o1", q, "T2"), "", "/orgs/o1?page=T2&q=sensor", "", "Next page →"},
		{"middle page", listPager(false, "/orgs/o1", q, "T3"), "/orgs/o1?q=sensor", "/orgs/o1?page=T3&q=sensor", "← First page", "Next page →"},
		{"last page, no query", listPager(false, "/orgs/o1/admins", nil, ""), "/orgs/o1/admins", "", "← First page", ""},
		{"empty query left out", listPager(false, "/orgs/o1", map[string][]string{"q": {""}}, ""), "/orgs/o1", "", "← First page", ""},
		{"only page", listPager(true, "/", nil, ""), "", "", "", ""},
		{"own labels", Pager{FirstURL: "/a", NextURL: "/a?page=x", FirstText: "← Newest entries", NextText: "Older entries →"},
			"/a", "/a?page=x", "← Newest entries", "Older entries →"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := pager(tc.pager).Render(context.Background(), &b); err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(&b)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Find("p.pager").Length() != 1 {
				t.Fatalf("no p.pager in %s", b.String())
			}
			for _, l := range []struct{ sel, href, text string }{
				{"[data-testid=first-page]", tc.wantFirst, tc.firstText},
				{"[data-testid=next-page]", tc.wantNext, tc.nextText},
			} {
				a := doc.Find(l.sel)
				if l.href == "" {
					if a.Length() != 0 {
						t.Errorf("%s present, want none", l.sel)
					}
					continue
				}
				if href, _ := a.Attr("href"); a.Length() != 1 || href != l.href || a.Text() != l.text {
					t.Errorf("%s: %d link(s), href %q text %q; want href %q text %q", l.sel, a.Length(), href, a.Text(), l.href, l.text)
				}
			}
		})
	}
}
