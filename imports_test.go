package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection enforces DESIGN.md's arrows: main → web → handlers →
// views → domain, and main → db → domain. app is main's composition root
// (the one constructor the server, the command line and the tests share),
// so it may import what main may. Test files are not checked.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string][]string{
		"studio":          {"studio/app", "studio/web", "studio/handlers", "studio/handlers/api", "studio/db/sqlite", "studio/domain"},
		"studio/app":      {"studio/web", "studio/handlers", "studio/handlers/api", "studio/db/sqlite", "studio/domain", "studio/passkey", "studio/sso"},
		"studio/web":      {"studio/handlers", "studio/handlers/api", "studio/handlers/httpx", "studio/static", "studio/domain"},
		"studio/handlers": {"studio/views", "studio/handlers/httpx", "studio/domain"},
		// The API renders one page, its reference (/docs/api), with the views.
		"studio/handlers/api": {"studio/views", "studio/handlers/httpx", "studio/domain"},
		// The HTTP edge both faces share: error statuses, the request's id and logger.
		"studio/handlers/httpx": {"studio/domain"},
		"studio/views":          {"studio/domain", "studio/static"},
		"studio/db/sqlite":      {"studio/domain"},
		"studio/domain":         {},
		// Protocol adapters behind the domain's interfaces (app wires them).
		"studio/passkey":  {"studio/domain"},
		"studio/sso":      {"studio/domain"},
		"studio/static":   {},
		"studio/loadtest": {"studio/domain", "studio/internal/jwtbearer"},
		// Test support shared by the tests and the load program.
		"studio/internal/jwtbearer": {},
	}
	forbiddenInDomain := []string{"database/sql", "net/http", "github.com/labstack/echo", "modernc.org/sqlite", "github.com/a-h/templ"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s has no entry in the allowed import table", pkg)
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, "studio/") || imp == "studio" {
				if !contains(ok, imp) {
					t.Errorf("%s imports %s, against the design's import direction", pkg, imp)
				}
			}
			if pkg == "studio/domain" {
				for _, f := range forbiddenInDomain {
					if strings.HasPrefix(imp, f) {
						t.Errorf("domain imports %s: it must stay free of web and SQL libraries", imp)
					}
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
