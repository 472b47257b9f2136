package domain_test

import (
	"testing"

	"studio/domain"
)

func TestParseHygieneFilter(t *testing.T) {
	id := "c18rs36olv9021epsv2g"
	for _, tc := range []struct {
		list, project, unused, older string
		want                         domain.HygieneFilter
		bad                          []string
	}{
		{want: domain.HygieneFilter{List: domain.ListUnusedKeys, UnusedDays: 90, OlderThanDays: 365}},
		{list: "old-keys", older: "30", want: domain.HygieneFilter{List: domain.ListOldKeys, UnusedDays: 90, OlderThanDays: 30, OlderThanSet: true}},
		{list: " no-keys ", project: id, unused: "7",
			want: domain.HygieneFilter{List: domain.ListKeylessAccount, ProjectID: id, UnusedDays: 7, OlderThanDays: 365}},
		{list: "unused-keys", unused: "3650", want: domain.HygieneFilter{List: domain.ListUnusedKeys, UnusedDays: 3650, OlderThanDays: 365}},
		{list: "all", bad: []string{"list"}},
		{unused: "0", bad: []string{"unused_days"}},
		{unused: "3651", bad: []string{"unused_days"}},
		{unused: "-5", older: "1.5", bad: []string{"unused_days", "older_than"}},
		{project: "C18RS36OLV9021EPSV2G", bad: []string{"project"}},
		{project: "../x", older: "x", bad: []string{"project", "older_than"}},
	} {
		f, err := domain.ParseHygieneFilter(tc.list, tc.project, tc.unused, tc.older)
		if len(tc.bad) == 0 {
			if err != nil || f != tc.want {
				t.Errorf("%+v: %+v, %v; want %+v", tc, f, err, tc.want)
			}
			continue
		}
		fields := domain.FieldErrors(err)
		if domain.ErrorCode(err) != domain.EINVALID || len(fields) != len(tc.bad) {
			t.Errorf("%+v: error %v with fields %v, want fields %v", tc, err, fields, tc.bad)
		}
		for _, field := range tc.bad {
			if fields[field] == "" {
				t.Errorf("%+v: no message for %s", tc, field)
			}
		}
	}
}

func TestHygieneListsAndActionsAreDescribed(t *testing.T) {
	kinds := map[bool]int{}
	for _, l := range domain.HygieneLists {
		if info, ok := domain.LookupHygieneList(l.List); !ok || info.Title == "" {
			t.Errorf("list %s is not described", l.List)
		}
		kinds[l.Keys]++
	}
	if kinds[true] != 2 || kinds[false] != 4 {
		t.Errorf("lists of keys and accounts: %v", kinds)
	}
	for _, a := range domain.HygieneActions {
		if info, ok := domain.LookupHygieneAction(a.Action); !ok || info.Label == "" || info.Verb == "" {
			t.Errorf("action %s is not described", a.Action)
		}
	}
	if _, ok := domain.LookupHygieneAction("shred"); ok {
		t.Error("an unknown action is known")
	}
}
