package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"studio/domain"
	"studio/internal/jwtbearer"
)

// database is the database under test: --db, or a fresh one in tmp seeded
// by the studio binary's seed command. What it is goes into meta.
func database(ctx context.Context, o options, bin string, env []string, tmp string, meta *runMeta) (string, error) {
	dbPath := o.db
	if dbPath == "" {
		dbPath = filepath.Join(tmp, "studio.db")
		per := o.seedAccounts / o.projects
		logf("seeding %d accounts: 1 organization, %d project(s) of %d accounts and %d memberships, %d keys each",
			per*o.projects, o.projects, per, per, o.seedKeys)
		start := time.Now()
		cmd := exec.CommandContext(ctx, bin, "seed", "--db", dbPath, "--orgs", "1", "--projects", strconv.Itoa(o.projects),
			"--accounts", strconv.Itoa(per), "--members", strconv.Itoa(per), "--keys", strconv.Itoa(o.seedKeys))
		cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("seed: %w", err)
		}
		meta.Seeded = fmt.Sprintf("%d accounts in %d project(s) of %d (and %d memberships each), seeded in %s",
			per*o.projects, o.projects, per, per, time.Since(start).Round(100*time.Millisecond))
	} else {
		var err error
		if dbPath, err = filepath.Abs(dbPath); err != nil {
			return "", err
		}
		if _, err := os.Stat(dbPath); err != nil {
			return "", fmt.Errorf("--db: %w", err)
		}
		meta.Seeded = "existing database " + dbPath
	}
	if info, err := os.Stat(dbPath); err == nil {
		meta.DBSizeMiB = float64(info.Size()) / (1 << 20)
	}
	return dbPath, nil
}

// setup holds the credentials and the discovered pages under test.
type setup struct {
	ctx    context.Context
	o      options
	bin    string
	env    []string
	db     string
	base   string
	client *http.Client

	cookie    string // console session and CSRF cookies
	basic     string // Authorization header values
	bearer    string
	keyID     string
	secret    string
	email     string
	callerID  string
	projectID string

	accountCount int    // seeded accounts in the project (-1 when unknown)
	memberCount  int    // memberships in the project, from the id range (-1 when unknown)
	saDeepToken  string // page token of a page deep in the account list
	accountID    string // an account on that page
	memDeepToken string // page token of a page deep in the members list
	notes        []string
}

func (s *setup) prepare() error {
	// The API caller, made by the command line beside the running server.
	logf("creating the API caller with %s serviceaccount create", filepath.Base(s.bin))
	args := []string{"serviceaccount", "create", "--db", s.db, "--base-url", s.base, "--project", s.o.project,
		"--name", "load-caller", "--project-role", "admin"}
	if s.o.org != "" {
		args = append(args, "--org", s.o.org)
	}
	cmd := exec.CommandContext(s.ctx, s.bin, args...)
	cmd.Env, cmd.Stderr = s.env, os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("serviceaccount create: %w", err)
	}
	var cf struct {
		ServiceAccount struct{ KeyID, Secret, Email string } `json:"serviceAccount"`
	}
	if err := json.Unmarshal(out, &cf); err != nil || cf.ServiceAccount.KeyID == "" {
		return fmt.Errorf("serviceaccount create printed no credentials: %v", err)
	}
	s.keyID, s.secret, s.email = cf.ServiceAccount.KeyID, cf.ServiceAccount.Secret, cf.ServiceAccount.Email
	// The email is <saId>@<projectId>.serviceaccount.<domain>.
	local, domainPart, _ := strings.Cut(s.email, "@")
	s.callerID, _, _ = strings.Cut(domainPart, ".")
	s.projectID, s.callerID = s.callerID, local
	if s.projectID == "" || s.callerID == "" {
		return fmt.Errorf("cannot read the project from the caller's email %q", s.email)
	}

	// Bearer, then Basic Auth switched on through the API.
	token, err := s.exchange()
	if err != nil {
		return err
	}
	s.bearer = "Bearer " + token
	if _, err := s.apiJSON(http.MethodPatch, "/v2/projects/"+s.projectID+"/serviceaccounts/"+s.callerID,
		s.bearer, `{"enableBasicAuth":true}`, nil); err != nil {
		return fmt.Errorf("enable Basic Auth: %w", err)
	}
	s.basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(s.keyID+":"+s.secret))

	if err := s.signIn(); err != nil {
		return err
	}
	s.accountCount, s.memberCount = -1, -1
	if s.o.routes == nil || s.o.routes["sa-list-deep"] || s.o.routes["api-sa-deep"] || s.o.routes["sa-page"] {
		if err := s.findDeepAccountPage(); err != nil {
			return err
		}
	}
	if s.o.routes == nil || s.o.routes["members-deep"] {
		return s.findDeepMembersPage()
	}
	return nil
}

func (s *setup) tokenForm() string {
	assertion := jwtbearer.Assertion(s.keyID, s.secret, s.email, s.base+"/oauth2/token", time.Now())
	return url.Values{"grant_type": {jwtbearer.GrantType}, "assertion": {assertion}}.Encode()
}

func (s *setup) exchange() (string, error) {
	resp, err := s.client.Post(s.base+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(s.tokenForm()))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token exchange: status %d: %s", resp.StatusCode, raw)
	}
	return tok.AccessToken, nil
}

// apiJSON makes one API call and decodes a 200 answer into out.
func (s *setup) apiJSON(method, path, auth, body string, out any) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(s.ctx, method, s.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

var csrfField = regexp.MustCompile(`name="_csrf"\s+value="([^"]*)"`)

// signIn signs in to the console as the administrator and keeps the
// session and CSRF cookies for the console routes.
func (s *setup) signIn() error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: s.client.Transport, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.base + "/signin")
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(raw)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("GET /signin: status %d, no _csrf field", resp.StatusCode)
	}
	form := url.Values{"email": {s.o.adminEmail}, "password": {s.o.adminPassword}, "_csrf": {html.UnescapeString(string(m[1]))}}
	resp, err = c.PostForm(s.base+"/signin", form)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return fmt.Errorf("sign-in as %s: status %d (is --admin-password right? a database keeps the password of its first start)", s.o.adminEmail, resp.StatusCode)
	}
	u, _ := url.Parse(s.base)
	var parts []string
	session := false
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
		session = session || ck.Name == "studio_session"
	}
	if !session {
		return errors.New("sign-in set no studio_session cookie")
	}
	s.cookie = strings.Join(parts, "; ")
	logf("signed in to the console as %s", s.o.adminEmail)
	return nil
}

type saList struct {
	ServiceAccounts []struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	} `json:"serviceAccounts"`
	NextPageToken string `json:"nextPageToken"`
}

func (s *setup) listAccounts(token string, size int) (saList, error) {
	var l saList
	_, err := s.apiJSON(http.MethodGet, fmt.Sprintf("/v2/projects/%s/serviceaccounts?pageSize=%d&pageToken=%s",
		s.projectID, size, url.QueryEscape(token)), s.bearer, "", &l)
	return l, err
}

func lastSegment(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// deepIndex is the position of the deep page in a list of n rows: 90 %
// down, with a full API page (and so a full console page) after it and
// at least one before. -1 when the list is too short.
func deepIndex(n int) int {
	if n < 2*apiPageSize {
		return -1
	}
	return min(max(n*9/10, apiPageSize), n-apiPageSize)
}

// findDeepAccountPage counts the project's seeded accounts and makes the
// token of a page 90 % down the list, the token the console's next-page
// link would carry there. The seeder names accounts "Account 0000000",
// ..., so the count is a binary search over made-up cursors (about 40
// requests even at 1,000,000); other databases are walked page by page.
func (s *setup) findDeepAccountPage() error {
	name := func(i int) string { return fmt.Sprintf("account %07d", i) }
	// at returns the account at position i of the seeded naming, if any.
	at := func(i int) (id string, ok bool, err error) {
		l, err := s.listAccounts(domain.EncodeCursor(domain.ServiceAccountListing(s.projectID, ""), domain.Cursor{Key: name(i)}), 1)
		if err != nil || len(l.ServiceAccounts) == 0 {
			return "", false, err
		}
		sa := l.ServiceAccounts[0]
		return lastSegment(sa.Name), strings.ToLower(sa.DisplayName) == name(i), nil
	}
	_, ok, err := at(0)
	if err != nil {
		return err
	}
	if ok {
		lo, hi := 0, 1 // at(lo) exists; find hi that does not
		for {
			_, ok, err := at(hi)
			if err != nil {
				return err
			}
			if !ok || hi >= 9_999_999 {
				break
			}
			lo, hi = hi, min(hi*2, 9_999_999)
		}
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			_, ok, err := at(mid)
			if err != nil {
				return err
			}
			if ok {
				lo = mid
			} else {
				hi = mid
			}
		}
		s.accountCount = hi
		if s.accountID, _, err = at(hi / 2); err != nil { // the account page's account, unless a deep page gives one
			return err
		}
		d := deepIndex(hi)
		if d < 0 {
			s.notes = append(s.notes, fmt.Sprintf("the project has %d accounts: too few for a deep page (needs %d)", hi, 2*apiPageSize))
			return nil
		}
		prevID, _, err := at(d - 1)
		if err != nil {
			return err
		}
		s.saDeepToken = domain.EncodeCursor(domain.ServiceAccountListing(s.projectID, ""), domain.Cursor{Key: name(d - 1), ID: prevID})
		s.accountID, _, err = at(d)
		logf("project %s: %d seeded accounts; deep page starts at %q (position %d)", s.projectID, hi, name(d), d)
		return err
	}

	// Not the seeder's naming: walk the list, 1,000 a page.
	logf("account names do not follow the seeder's pattern: walking the list")
	var tokens []string
	var firsts []string
	total, token := 0, ""
	for i := 0; i < 5000; i++ {
		l, err := s.listAccounts(token, 1000)
		if err != nil {
			return err
		}
		if len(l.ServiceAccounts) > 0 {
			tokens = append(tokens, token)
			firsts = append(firsts, lastSegment(l.ServiceAccounts[0].Name))
		}
		total += len(l.ServiceAccounts)
		if token = l.NextPageToken; token == "" {
			break
		}
	}
	s.accountCount = total
	if len(tokens) < 3 {
		s.notes = append(s.notes, fmt.Sprintf("the project has %d accounts: too few for a deep page with this walk", total))
		if len(firsts) > 0 {
			s.accountID = firsts[0]
		}
		return nil
	}
	k := min(len(tokens)*9/10, len(tokens)-2)
	s.saDeepToken, s.accountID = tokens[k], firsts[k]
	return nil
}

// findDeepMembersPage walks the project's members list through the API,
// 1,000 a page, to count it, then makes the token of a page 90 % down: the
// token the console's next-page link would carry there. (The list's sort
// key is the membership's row id, which need not be contiguous in a project.)
func (s *setup) findDeepMembersPage() error {
	type memList struct {
		Members       []json.RawMessage `json:"members"`
		NextPageToken string            `json:"nextPageToken"`
	}
	list := func(token string, size int) (memList, error) {
		var l memList
		_, err := s.apiJSON(http.MethodGet, fmt.Sprintf("/v2/projects/%s/members?pageSize=%d&pageToken=%s",
			s.projectID, size, url.QueryEscape(token)), s.bearer, "", &l)
		return l, err
	}
	const walkPage = 1000
	start := time.Now()
	var starts []string // starts[k] is the token of the page holding positions k*walkPage...
	total, token := 0, ""
	for len(starts) < 5000 {
		l, err := list(token, walkPage)
		if err != nil {
			return err
		}
		starts = append(starts, token)
		total += len(l.Members)
		if token = l.NextPageToken; token == "" {
			break
		}
	}
	s.memberCount = total
	d := deepIndex(total)
	if d < 0 {
		s.notes = append(s.notes, fmt.Sprintf("the project has %d members: too few for a deep members page (needs %d)", total, 2*apiPageSize))
		return nil
	}
	k, rest := d/walkPage, d%walkPage
	s.memDeepToken = starts[k]
	if rest > 0 {
		l, err := list(starts[k], rest)
		if err != nil {
			return err
		}
		s.memDeepToken = l.NextPageToken
	}
	logf("project %s: %d members (counted in %s); deep members page starts at position %d",
		s.projectID, total, time.Since(start).Round(time.Millisecond), d)
	return nil
}

// deleteCaller removes the load-caller account from a --db database.
func (s *setup) deleteCaller() {
	if s.callerID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	auth := s.bearer
	if auth == "" {
		logf("the load-caller account %s stays in the database: no token was made for it", s.callerID)
		return
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, s.base+"/v2/projects/"+s.projectID+"/serviceaccounts/"+s.callerID, nil)
	req.Header.Set("Authorization", auth)
	resp, err := s.client.Do(req)
	if err != nil {
		logf("could not delete the load-caller account %s: %v", s.callerID, err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		logf("could not delete the load-caller account %s: status %d", s.callerID, resp.StatusCode)
		return
	}
	logf("deleted the load-caller account %s", s.callerID)
}
