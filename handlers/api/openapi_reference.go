package api

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"studio/views"

	"github.com/labstack/echo/v4"
)

// The readable reference (/docs/api) is made from the same document, so
// it cannot say anything else. It understands the part of OpenAPI the
// document uses; a schema keyword it does not know is an error (see
// schemaKeywords), so the page never leaves out a rule without a word.

// schemaKeywords are the schema keywords the page knows how to show.
var schemaKeywords = map[string]bool{
	"$ref": true, "type": true, "description": true, "properties": true, "required": true,
	"additionalProperties": true, "items": true, "enum": true, "pattern": true, "format": true,
	"minimum": true, "maximum": true, "minItems": true, "maxItems": true, "maxProperties": true,
	"propertyNames": true, "minLength": true, "maxLength": true, "oneOf": true, "anyOf": true,
}

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

// openAPIReference makes the page's view model from the merged document.
func openAPIReference(doc map[string]any, baseURL string) (views.APIReference, error) {
	info := asMap(doc["info"])
	ref := views.APIReference{Title: trimSpace(info["title"]), Version: trimSpace(info["version"]),
		Description: trimSpace(info["description"]), BaseURL: baseURL}
	comps := asMap(doc["components"])
	params := asMap(comps["parameters"])
	responses := asMap(comps["responses"])
	groups := map[string]*views.APIGroup{}
	var order []string
	for _, t := range asSlice(doc["tags"]) {
		tm := asMap(t)
		name := trimSpace(tm["name"])
		groups[name] = &views.APIGroup{Name: name, Description: trimSpace(tm["description"])}
		order = append(order, name)
	}
	paths := asMap(doc["paths"])
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		item := asMap(paths[p])
		shared := asSlice(item["parameters"])
		for _, method := range methodOrder {
			raw, ok := item[method]
			if !ok {
				continue
			}
			op := asMap(raw)
			o := views.APIOperation{ID: trimSpace(op["operationId"]), Method: strings.ToUpper(method), Path: p,
				Summary: trimSpace(op["summary"]), Description: trimSpace(op["description"]),
				Permission: trimSpace(op["x-permission"]), BeyondContract: op["x-beyond-contract"] == true}
			if sec, has := op["security"]; has && len(asSlice(sec)) == 0 {
				o.Public = true
			}
			for _, pr := range append(append([]any{}, shared...), asSlice(op["parameters"])...) {
				pm := asMap(pr)
				if r := trimSpace(pm["$ref"]); r != "" {
					pm = asMap(params[strings.TrimPrefix(r, "#/components/parameters/")])
				}
				t, rules, err := describe(asMap(pm["schema"]))
				if err != nil {
					return ref, fmt.Errorf("%s %s parameter %v: %w", o.Method, p, pm["name"], err)
				}
				o.Params = append(o.Params, views.APIField{Name: trimSpace(pm["name"]), In: trimSpace(pm["in"]), Type: t,
					Required: pm["required"] == true, Description: trimSpace(pm["description"]), Rules: rules})
			}
			if rb, has := op["requestBody"]; has {
				body, err := describeBody(asMap(rb))
				if err != nil {
					return ref, fmt.Errorf("%s %s body: %w", o.Method, p, err)
				}
				o.Body = body
			}
			statuses := asMap(op["responses"])
			codes := make([]string, 0, len(statuses))
			for code := range statuses {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			// The shared error responses (components/responses) make one
			// row: their statuses, the error body, and where they are explained.
			var shared []string
			var sharedType views.APIType
			for _, code := range codes {
				rm := asMap(statuses[code])
				if r := trimSpace(rm["$ref"]); r != "" {
					rm = asMap(responses[strings.TrimPrefix(r, "#/components/responses/")])
					for _, media := range asMap(rm["content"]) {
						var err error
						if sharedType, _, err = describe(asMap(asMap(media)["schema"])); err != nil {
							return ref, fmt.Errorf("%s %s response %s: %w", o.Method, p, code, err)
						}
					}
					shared = append(shared, code)
					continue
				}
				var t views.APIType
				for _, media := range asMap(rm["content"]) {
					var err error
					if t, _, err = describe(asMap(asMap(media)["schema"])); err != nil {
						return ref, fmt.Errorf("%s %s response %s: %w", o.Method, p, code, err)
					}
				}
				o.Responses = append(o.Responses, views.APIResponse{Status: code, Description: trimSpace(rm["description"]), Type: t})
			}
			if len(shared) > 0 {
				o.Responses = append(o.Responses, views.APIResponse{Status: strings.Join(shared, ", "), Type: sharedType,
					Description: "An error: what each status means is on API errors."})
			}
			tags := asSlice(op["tags"])
			if len(tags) == 0 {
				return ref, fmt.Errorf("%s %s has no tag", o.Method, p)
			}
			g, ok := groups[trimSpace(tags[0])]
			if !ok {
				return ref, fmt.Errorf("%s %s: tag %v is not defined", o.Method, p, tags[0])
			}
			g.Operations = append(g.Operations, o)
		}
	}
	for _, name := range order {
		ref.Groups = append(ref.Groups, *groups[name])
	}
	schemas := asMap(comps["schemas"])
	snames := make([]string, 0, len(schemas))
	for n := range schemas {
		snames = append(snames, n)
	}
	sort.Strings(snames)
	for _, n := range snames {
		sm := asMap(schemas[n])
		t, rules, err := describe(sm)
		if err != nil {
			return ref, fmt.Errorf("schema %s: %w", n, err)
		}
		fields, err := describeFields(sm)
		if err != nil {
			return ref, fmt.Errorf("schema %s: %w", n, err)
		}
		desc := trimSpace(sm["description"])
		if rules != "" {
			desc = strings.TrimSpace(desc + " " + rules)
		}
		ref.Schemas = append(ref.Schemas, views.APISchema{Name: n, Description: desc, Type: t, Fields: fields})
	}
	return ref, nil
}

func describeBody(rb map[string]any) (*views.APIBody, error) {
	for ct, media := range asMap(rb["content"]) {
		sm := asMap(asMap(media)["schema"])
		t, _, err := describe(sm)
		if err != nil {
			return nil, err
		}
		body := &views.APIBody{ContentType: ct, Type: t, Required: rb["required"] == true}
		if _, named := sm["$ref"]; !named {
			if body.Fields, err = describeFields(sm); err != nil {
				return nil, err
			}
		}
		return body, nil
	}
	return nil, fmt.Errorf("a request body without content")
}

// describeFields lists an object schema's properties, required ones first.
func describeFields(sm map[string]any) ([]views.APIField, error) {
	props := asMap(sm["properties"])
	required := map[string]bool{}
	for _, r := range asSlice(sm["required"]) {
		required[trimSpace(r)] = true
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	// The document's order is lost in the merge: required first, then by name.
	sort.SliceStable(names, func(i, j int) bool {
		if required[names[i]] != required[names[j]] {
			return required[names[i]]
		}
		return names[i] < names[j]
	})
	var out []views.APIField
	for _, n := range names {
		pm := asMap(props[n])
		t, rules, err := describe(pm)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", n, err)
		}
		out = append(out, views.APIField{Name: n, Type: t, Required: required[n], Description: trimSpace(pm["description"]), Rules: rules})
	}
	return out, nil
}

// describe writes a schema's type and its rules.
func describe(sm map[string]any) (views.APIType, string, error) {
	for k := range sm {
		if !schemaKeywords[k] {
			return views.APIType{}, "", fmt.Errorf("the reference page does not know the schema keyword %q: teach openapi_reference.go to show it", k)
		}
	}
	text := func(s string) views.APITypePart { return views.APITypePart{Text: s} }
	if r := trimSpace(sm["$ref"]); r != "" {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		return views.APIType{Parts: []views.APITypePart{{Ref: name}}}, "", nil
	}
	if alts := append(asSlice(sm["oneOf"]), asSlice(sm["anyOf"])...); len(alts) > 0 {
		var t views.APIType
		for i, alt := range alts {
			at, _, err := describe(asMap(alt))
			if err != nil {
				return t, "", err
			}
			if i > 0 {
				t.Parts = append(t.Parts, text(" or "))
			}
			t.Parts = append(t.Parts, at.Parts...)
		}
		return t, "", nil
	}
	var types []string
	switch v := sm["type"].(type) {
	case string:
		types = []string{v}
	case []any:
		for _, x := range v {
			types = append(types, trimSpace(x))
		}
	}
	nullable := false
	var main []string
	for _, t := range types {
		if t == "null" {
			nullable = true
		} else {
			main = append(main, t)
		}
	}
	var t views.APIType
	switch {
	case len(main) == 1 && main[0] == "array":
		it, _, err := describe(asMap(sm["items"]))
		if err != nil {
			return t, "", err
		}
		t.Parts = append([]views.APITypePart{text("array of ")}, it.Parts...)
	case len(main) == 1 && main[0] == "object" && len(asMap(sm["properties"])) == 0 && sm["additionalProperties"] != nil && sm["additionalProperties"] != false:
		vt, _, err := describe(asMap(sm["additionalProperties"]))
		if err != nil {
			return t, "", err
		}
		t.Parts = append([]views.APITypePart{text("object of string → ")}, vt.Parts...)
	case len(main) > 0:
		t.Parts = []views.APITypePart{text(strings.Join(main, " or "))}
	default:
		t.Parts = []views.APITypePart{text("any")}
	}
	if nullable {
		t.Parts = append(t.Parts, text(" or null"))
	}
	return t, rulesOf(sm), nil
}

// rulesOf says what values a schema allows beyond its type.
func rulesOf(sm map[string]any) string {
	var rules []string
	if e := asSlice(sm["enum"]); len(e) > 0 {
		vals := make([]string, len(e))
		for i, v := range e {
			vals[i] = fmt.Sprint(v)
		}
		rules = append(rules, "One of "+strings.Join(vals, ", ")+".")
	}
	if p := trimSpace(sm["pattern"]); p != "" {
		rules = append(rules, "Matches "+p+".")
	}
	if f := trimSpace(sm["format"]); f != "" {
		rules = append(rules, "Format "+f+".")
	}
	rng := func(lo, hi any, what string) {
		switch {
		case lo != nil && hi != nil:
			rules = append(rules, fmt.Sprintf("%v to %v%s.", lo, hi, what))
		case lo != nil:
			rules = append(rules, fmt.Sprintf("At least %v%s.", lo, what))
		case hi != nil:
			rules = append(rules, fmt.Sprintf("At most %v%s.", hi, what))
		}
	}
	rng(sm["minimum"], sm["maximum"], "")
	rng(sm["minItems"], sm["maxItems"], " items")
	rng(sm["minLength"], sm["maxLength"], " characters")
	rng(nil, sm["maxProperties"], " entries")
	if pn := asMap(sm["propertyNames"]); len(pn) > 0 {
		rules = append(rules, "Keys: "+strings.TrimSpace(rulesOf(pn)))
	}
	return strings.Join(rules, " ")
}

// Reference is GET /docs/api: the API reference as a page, made from the
// document of GET /v2/openapi.json. It is public, as the document is.
func (a *API) Reference(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(http.StatusOK)
	return views.APIReferencePage(views.Page{Title: "API reference"}, a.reference).Render(c.Request().Context(), c.Response())
}
