package api

// Fuzz targets for the API's own parsers: the Basic Auth credentials and
// the strict JSON body decoder, into every request body type the handlers
// use. Seeds are added with f.Add and committed under testdata/fuzz/. Run with
//
//	go test ./handlers/api -run '^$' -fuzz '^FuzzDecode$' -fuzztime 20s

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"studio/domain"

	"github.com/labstack/echo/v4"
)

func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{
		"", basic("01HZY3K4N5P6Q7R8S9T0V1W2X3:s3cr3t"), basic("key:"), basic(":secret"), basic(":"), basic("nocolon"),
		basic("key:sec:ret"), basic("kéy:sécret"), basic("key\x00:\x00secret"), basic("\xff\xfe:\xff"),
		base64.RawStdEncoding.EncodeToString([]byte("key:secret1")), base64.URLEncoding.EncodeToString([]byte("k?>:s?>")),
		"a2V5OnNlY3JldA", "a2V5OnNlY3JldA==", "a2V5OnNlY3JldA=", "a2V5Om\nNlY3JldA==", " a2V5OnNlY3JldA== ",
		"not base64!", "====", "Basic a2V5OnNlY3JldA==", basic(strings.Repeat("k", 383) + ":" + strings.Repeat("s", 383)),
		strings.Repeat("A", 1025), "🚀",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cred string) {
		user, pass, ok := parseBasic(cred)
		if !ok {
			return
		}
		if len(cred) > 1024 {
			t.Fatalf("accepted credentials of %d bytes", len(cred))
		}
		if user == "" || pass == "" || strings.Contains(user, ":") {
			t.Fatalf("parseBasic(%q) = %q, %q: empty part or a colon in the key id", cred, user, pass)
		}
		// The parts are the decoded header, split at the first colon.
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil || string(raw) != user+":"+pass {
			t.Fatalf("parseBasic(%q) = %q, %q, but the header decodes to %q (%v)", cred, user, pass, raw, err)
		}
		u2, p2, ok2 := parseBasic(basic(user + ":" + pass))
		if !ok2 || u2 != user || p2 != pass {
			t.Fatalf("re-encoded %q:%q reads %q:%q %v", user, pass, u2, p2, ok2)
		}
	})
}

// The request bodies of the batch endpoints, which members.go declares
// inline: the same fields and tags.
type (
	batchCreateBody struct {
		Members []struct {
			Project string   `json:"project"`
			Email   string   `json:"email"`
			Roles   []string `json:"roles"`
		} `json:"members"`
	}
	batchDeleteBody struct {
		Names []string `json:"names"`
	}
)

// bodyTypes makes a fresh value of each request body type decode reads into.
var bodyTypes = []struct {
	name string
	new  func() any
}{
	{"projectBody", func() any { return new(projectBody) }},
	{"serviceAccountBody", func() any { return new(serviceAccountBody) }},
	{"memberBody", func() any { return new(memberBody) }},
	{"batchCreateBody", func() any { return new(batchCreateBody) }},
	{"batchDeleteBody", func() any { return new(batchDeleteBody) }},
	{"emptyBody", func() any { return new(struct{}) }}, // CreateKey
}

// oversize is set in FuzzDecode's kind to pad the body past MaxBody.
const oversize = 0x80

func FuzzDecode(f *testing.F) {
	bodies := []string{
		``, ` `, "\n\t", `{}`, `null`, `[]`, `""`, `0`, `true`, `{`, `}`, `{"`, `{}{}`, `{} {}`, `{} x`, `{}]`,
		`{"displayName":"Alpha plant"}`,
		`{"displayName":"Alpha","location":{"latitude":47.37,"longitude":8.54,"timeLocation":"Europe/Zurich"}}`,
		`{"name":"projects/x","displayName":"A","organization":"organizations/o","organizationDisplayName":"O","sensorCount":3,"cloudConnectorCount":1,"inventory":false}`,
		`{"displayName":"Robot","enableBasicAuth":true}`,
		`{"email":"user@example.com","roles":["roles/project.user"]}`,
		`{"roles":["roles/organization.admin"],"email":"a@b.c","status":"ACCEPTED","accountType":"USER","createTime":"2024-01-01T00:00:00Z"}`,
		`{"members":[{"project":"projects/p","email":"a@b.c","roles":["roles/project.developer"]}]}`,
		`{"names":["projects/p/members/1","projects/p/members/01HZY3K4N5P6Q7R8S9T0V1W2X3"]}`,
		`{"unknown":1}`, `{"displayName":"x","extra":{"nested":[1,2,{"deep":null}]}}`,
		`{"displayName":1}`, `{"displayName":["x"]}`, `{"displayName":{"x":1}}`, `{"displayName":null}`,
		`{"sensorCount":1e400}`, `{"sensorCount":9223372036854775808}`, `{"sensorCount":-1}`, `{"sensorCount":1.5}`,
		`{"sensorCount":"3"}`, `{"inventory":"true"}`, `{"enableBasicAuth":1}`,
		`{"location":{"latitude":"north"}}`, `{"location":{"latitude":1e309}}`, `{"location":[]}`, `{"location":{"altitude":3}}`,
		`{"roles":"roles/project.user"}`, `{"roles":[1]}`, `{"roles":[null]}`,
		`{"members":{}}`, `{"members":[null]}`, `{"members":[{"roles":[[]]}]}`, `{"members":[{"unknown":true}]}`,
		`{"names":"projects/p/members/1"}`, `{"names":[1,2]}`,
		`{"DISPLAYNAME":"case"}`, `{"displayname":"case"}`, `{"displayName":"a","displayName":"b"}`,
		`{"displayName":"\u0000\ud800\udfff\u202e"}`, "{\"displayName\":\"\xff\xfe\"}", `{"displayName":"\x"}`,
		"\xef\xbb\xbf{}", `{"a":` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001) + `}`,
		`{"displayName":"` + strings.Repeat("x", 1000) + `"}`,
	}
	for i, b := range bodies {
		for k := range bodyTypes {
			if (i+k)%2 == 0 || len(b) < 40 {
				f.Add(uint8(k), []byte(b))
			}
		}
	}
	f.Add(uint8(oversize), []byte(`{"displayName":"x"}`))
	f.Add(uint8(oversize|3), []byte(`{"members":[]}`))
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		bt := bodyTypes[int(kind&^oversize)%len(bodyTypes)]
		if kind&oversize != 0 && len(body) <= MaxBody {
			body = append(body, bytes.Repeat([]byte(" "), MaxBody+1-len(body))...)
		}
		req := httptest.NewRequest(http.MethodPost, "/v2/fuzz", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		c := echo.New().NewContext(req, httptest.NewRecorder())
		err := decode(c, bt.new())
		if err == nil {
			if len(body) > MaxBody {
				t.Fatalf("%s: accepted a body of %d bytes, over MaxBody", bt.name, len(body))
			}
			return
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EINVALID {
			t.Fatalf("%s: decode(%.200q) = %v (%T), want nil or an invalid *domain.Error", bt.name, body, err, err)
		}
		if de.Message == "" {
			t.Fatalf("%s: decode(%.200q) refused the body without a message", bt.name, body)
		}
	})
}
