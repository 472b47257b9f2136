package api

import (
	"strings"
	"testing"
	"testing/fstest"
)

// The pieces of the document merge into one; a path, tag or component
// that two pieces define, or a key a topic piece may not hold, is an error
// naming the piece.
func TestMergeOpenAPI(t *testing.T) {
	base := `{"openapi":"3.1.0","info":{"title":"t","version":"2"},"tags":[],"paths":{},"x-tag-order":["B","A"],
		"components":{"schemas":{"Error":{"type":"object"}}}}`
	good := fstest.MapFS{
		"openapi/base.json": {Data: []byte(base)},
		"openapi/a.json":    {Data: []byte(`{"tags":[{"name":"A"}],"paths":{"/v2/a":{}},"components":{"schemas":{"A":{"type":"string"}}}}`)},
		"openapi/b.json":    {Data: []byte(`{"tags":[{"name":"B"}],"paths":{"/v2/b":{}},"components":{"parameters":{"p":{"name":"p"}}}}`)},
	}
	doc, err := mergeOpenAPI(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(asMap(doc["paths"])) != 2 || len(asMap(asMap(doc["components"])["schemas"])) != 2 || len(asMap(asMap(doc["components"])["parameters"])) != 1 {
		t.Errorf("merged %v", doc)
	}
	if tags := asSlice(doc["tags"]); len(tags) != 2 || asMap(tags[0])["name"] != "B" {
		t.Errorf("tags %v, want B then A (x-tag-order)", tags)
	}
	for name, piece := range map[string]string{
		"path twice":      `{"paths":{"/v2/a":{}}}`,
		"schema twice":    `{"components":{"schemas":{"Error":{}}}}`,
		"tag twice":       `{"tags":[{"name":"A"}]}`,
		"info in a topic": `{"info":{"title":"other"}}`,
		"not JSON":        `{"paths":`,
	} {
		files := fstest.MapFS{"openapi/z.json": {Data: []byte(piece)}}
		for k, v := range good {
			files[k] = v
		}
		if _, err := mergeOpenAPI(files); err == nil || !strings.Contains(err.Error(), "z.json") {
			t.Errorf("%s: %v, want an error naming z.json", name, err)
		}
	}
}

// The reference page refuses a schema keyword it cannot show, rather than
// leaving a rule out.
func TestOpenAPIReferenceRefusesUnknownKeywords(t *testing.T) {
	doc, err := mergeOpenAPI(openapiFiles)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openAPIReference(doc, "http://studio.test"); err != nil {
		t.Fatalf("the real document: %v", err)
	}
	asMap(asMap(asMap(doc["components"])["schemas"])["Project"])["allOf"] = []any{}
	if _, err := openAPIReference(doc, ""); err == nil || !strings.Contains(err.Error(), "allOf") {
		t.Errorf("allOf: %v, want an error naming it", err)
	}
}
