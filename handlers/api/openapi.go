package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

// The API's own reference is an OpenAPI 3.1 document kept as source, in
// pieces under openapi/: base.json (info, security, the shared
// parameters, responses and schemas), then one file per topic with its
// tags, paths and schemas. A topic added later (devices, the emulator at
// /emulator/v2, streams, data connectors) adds its own file; paths are
// written in full (/v2/..., /emulator/v2/..., /oauth2/token) against the
// server's root, so every face of the server fits one document. The
// pieces are merged at start: a path, tag or component named twice is an
// error, caught by the tests. The web tests validate every JSON response
// they receive against the merged document (web/openapi_test.go).
//
//go:embed openapi/*.json
var openapiFiles embed.FS

// openapiTopLevel are the keys a topic file may have.
var openapiTopLevel = []string{"tags", "paths", "components"}

// OpenAPIDocument returns the merged document as JSON.
func OpenAPIDocument() ([]byte, error) {
	doc, err := mergeOpenAPI(openapiFiles)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// mergeOpenAPI reads base.json and merges every other file of the folder into it.
func mergeOpenAPI(files fs.FS) (map[string]any, error) {
	read := func(name string) (map[string]any, error) {
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return m, nil
	}
	doc, err := read("openapi/base.json")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "openapi/base.json" {
			continue
		}
		part, err := read(name)
		if err != nil {
			return nil, err
		}
		if err := mergeTopic(doc, part, path.Base(name)); err != nil {
			return nil, err
		}
	}
	// Tags (the reference page's sections) in the order base.json gives
	// in x-tag-order; others after them, as they came.
	rank := map[string]int{}
	for i, t := range asSlice(doc["x-tag-order"]) {
		rank[fmt.Sprint(t)] = i + 1
	}
	tags := asSlice(doc["tags"])
	sort.SliceStable(tags, func(i, j int) bool {
		ri, rj := rank[fmt.Sprint(asMap(tags[i])["name"])], rank[fmt.Sprint(asMap(tags[j])["name"])]
		if ri == 0 || rj == 0 {
			return ri != 0 && rj == 0
		}
		return ri < rj
	})
	return doc, nil
}

func mergeTopic(doc, part map[string]any, name string) error {
	for k := range part {
		if !slices.Contains(openapiTopLevel, k) {
			return fmt.Errorf("%s: a topic file holds only %v, not %q (those belong in base.json)", name, openapiTopLevel, k)
		}
	}
	tags, _ := doc["tags"].([]any)
	for _, t := range asSlice(part["tags"]) {
		tn := fmt.Sprint(asMap(t)["name"])
		for _, have := range tags {
			if fmt.Sprint(asMap(have)["name"]) == tn {
				return fmt.Errorf("%s: tag %q is defined twice", name, tn)
			}
		}
		tags = append(tags, t)
	}
	doc["tags"] = tags
	if err := mergeMap(asMap(doc["paths"]), asMap(part["paths"]), name, "path"); err != nil {
		return err
	}
	comps := asMap(doc["components"])
	for section, items := range asMap(part["components"]) {
		into, ok := comps[section].(map[string]any)
		if !ok {
			into = map[string]any{}
			comps[section] = into
		}
		if err := mergeMap(into, asMap(items), name, section); err != nil {
			return err
		}
	}
	return nil
}

func mergeMap(into, from map[string]any, name, what string) error {
	for k, v := range from {
		if _, taken := into[k]; taken {
			return fmt.Errorf("%s: %s %q is defined twice", name, what, k)
		}
		into[k] = v
	}
	return nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// openAPIWithServer returns the document with this server's public URL
// as its server, so a tool that reads it elsewhere calls the right host.
func openAPIWithServer(baseURL string) ([]byte, error) {
	doc, err := mergeOpenAPI(openapiFiles)
	if err != nil {
		return nil, err
	}
	if baseURL != "" {
		doc["servers"] = []any{map[string]any{"url": baseURL, "description": "This server."}}
	}
	return json.Marshal(doc)
}

// OpenAPI is GET /v2/openapi.json, served without authentication.
func (a *API) OpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, a.openapi)
}

// trimSpace is strings.TrimSpace of a value that may not be a string.
func trimSpace(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}
