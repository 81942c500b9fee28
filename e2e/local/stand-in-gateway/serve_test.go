package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// seen is one request as a backend received it.
type seen struct {
	method, uri string
	header      http.Header
	body        string
}

// stack is the gateway built from the real krakend/ files (local settings), every
// backend pointed at one test server.
type stack struct {
	t       *testing.T
	gateway *httptest.Server
	backend *httptest.Server
	g       *gateway
	cfg     *config
	keys    string

	mu      sync.Mutex
	seen    []seen
	respond http.HandlerFunc
}

func newStack(t *testing.T, settings map[string]any) *stack {
	t.Helper()
	s := &stack{t: t, keys: filepath.Join(t.TempDir(), "keys")}
	s.respond = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}
	s.backend = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, seen{r.Method, r.URL.RequestURI(), r.Header.Clone(), string(body)})
		respond := s.respond
		s.mu.Unlock()
		respond(w, r)
	}))
	t.Cleanup(s.backend.Close)
	if err := writeKeyPair(s.keys, "microshop-gateway"); err != nil {
		t.Fatal(err)
	}

	cfg, err := parseConfig(renderReal(t, "local", func(gw map[string]any) {
		backends := gw["backends"].(map[string]any)
		for name := range backends {
			backends[name] = s.backend.URL
		}
		gw["keys"] = map[string]any{"kid": "microshop-gateway",
			"private": filepath.Join(s.keys, "private.json"), "public": filepath.Join(s.keys, "public.json")}
	}, settings))
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	if s.g, err = newGateway(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	s.g.accessLog, s.g.log.out = nil, io.Discard
	s.gateway = httptest.NewServer(s.g.handler)
	t.Cleanup(func() {
		s.gateway.Close()
		s.g.close(context.Background())
	})
	return s
}

// renderReal renders krakend/krakend.tmpl with a copy of krakend/settings/NAME,
// gateway.json changed by edit, and extra settings files.
func renderReal(t *testing.T, name string, edit func(map[string]any), extra map[string]any) []byte {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Join("../../../krakend/settings", name))
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		raw, err := os.ReadFile(filepath.Join("../../../krakend/settings", name, entry.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if entry.Name() == "gateway.json" && edit != nil {
			var gw map[string]any
			if err := json.Unmarshal(raw, &gw); err != nil {
				t.Fatal(err)
			}
			edit(gw)
			raw, _ = json.Marshal(gw)
		}
		if err := os.WriteFile(filepath.Join(dir, entry.Name()), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for file, v := range extra {
		raw, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, file+".json"), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rendered, err := flexibleConfig{Settings: dir, Templates: "../../../krakend/templates"}.render("../../../krakend/krakend.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return rendered
}

// do sends a request to the gateway, not following redirects.
func (s *stack) do(method, path string, header map[string]string, body string) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.gateway.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// last is what the backend received last; none is a failure.
func (s *stack) last() seen {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		s.t.Fatal("the backend received nothing")
	}
	return s.seen[len(s.seen)-1]
}

func (s *stack) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func (s *stack) setRespond(f http.HandlerFunc) {
	s.mu.Lock()
	s.respond = f
	s.mu.Unlock()
}

// token signs claims (sub, iss, aud and exp filled in unless given) with a key of
// the given set file.
func (s *stack) token(claims map[string]any, keyFile string) string {
	s.t.Helper()
	full := map[string]any{"sub": "user-1", "iss": "microshop", "aud": "microshop", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(full, k)
		} else {
			full[k] = v
		}
	}
	if keyFile == "" {
		keyFile = filepath.Join(s.keys, "private.json")
	}
	keys, err := readKeySet(keyFile)
	if err != nil {
		s.t.Fatal(err)
	}
	key := keys["microshop-gateway"]
	signer, err := jose.NewSigner(jose.SigningKey{Key: key.Key, Algorithm: jose.EdDSA},
		&jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{"kid": key.KeyID, "typ": "JWT"}})
	if err != nil {
		s.t.Fatal(err)
	}
	payload, _ := json.Marshal(full)
	jws, err := signer.Sign(payload)
	if err != nil {
		s.t.Fatal(err)
	}
	compact, _ := jws.CompactSerialize()
	return compact
}

func TestRoutesAndParamsReachTheirBackendPath(t *testing.T) {
	s := newStack(t, nil)
	bearer := map[string]string{"Authorization": "Bearer " + s.token(nil, "")}
	for _, c := range []struct {
		method, path string
		header       map[string]string
		wantMethod   string
		wantURI      string
	}{
		{"GET", "/api/v1/products/42", nil, "GET", "/products/42"},
		{"GET", "/api/v1/categories", nil, "GET", "/categories"},
		{"POST", "/api/v1/shipping/quote", nil, "POST", "/quotes"},
		{"PUT", "/api/v1/cart/items/p-7", nil, "PUT", "/cart/items/p-7"},
		{"DELETE", "/api/v1/cart", nil, "DELETE", "/cart"},
		{"POST", "/api/v1/checkout", map[string]string{"X-Session-Id": "s1"}, "POST", "/orders"},
		{"GET", "/api/v1/orders/o-9", nil, "GET", "/orders/o-9"},
		{"DELETE", "/api/v1/me/cart/items/p-3", bearer, "DELETE", "/cart/items/p-3"},
		{"GET", "/api/v1/me/orders", bearer, "GET", "/orders?user=user-1"},
		{"GET", "/api/v1/me/orders/o-2", bearer, "GET", "/orders/o-2"},
	} {
		resp, _ := s.do(c.method, c.path, c.header, `{"a":1}`)
		got := s.last()
		if resp.StatusCode != 200 || got.method != c.wantMethod || got.uri != c.wantURI {
			t.Errorf("%s %s: %d, backend got %s %s, want %s %s", c.method, c.path, resp.StatusCode, got.method, got.uri, c.wantMethod, c.wantURI)
		}
		if c.method != "GET" && c.method != "DELETE" && got.body != `{"a":1}` {
			t.Errorf("%s %s: backend got body %q", c.method, c.path, got.body)
		}
		if ua := got.header.Get("User-Agent"); ua != "KrakenD Version 2.13.8" {
			t.Errorf("User-Agent %q", ua)
		}
		if got.header.Get("X-Forwarded-For") != "127.0.0.1" || got.header.Get("X-Forwarded-Host") == "" {
			t.Errorf("X-Forwarded-* %v", got.header)
		}
	}
}

func TestOnlyListedQueryStringsAndHeadersPass(t *testing.T) {
	s := newStack(t, nil)
	s.do("GET", "/api/v1/products?q=shoe&secret=1&page=2&q=boot", map[string]string{
		"Content-Type": "application/json", "Cookie": "session=x", "Authorization": "Bearer x", "X-Other": "1",
	}, "")
	got := s.last()
	if got.uri != "/products?page=2&q=shoe&q=boot" {
		t.Errorf("backend got %s", got.uri)
	}
	for _, h := range []string{"Cookie", "Authorization", "X-Other"} {
		if got.header.Get(h) != "" {
			t.Errorf("%s reached the backend", h)
		}
	}
	if got.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type did not reach the backend")
	}
	s.do("GET", "/api/v1/categories?q=shoe", nil, "")
	if got := s.last(); got.uri != "/categories" {
		t.Errorf("a route without input_query_strings passed %s", got.uri)
	}
}

func TestUserIDOnlyFromTheToken(t *testing.T) {
	s := newStack(t, nil)
	evil := map[string]string{"X-User-Id": "someone-else", "X-Session-Id": "s1"}
	for _, path := range []string{"/api/v1/products", "/api/v1/cart", "/api/v1/orders/o-1"} {
		s.do("GET", path, evil, "")
		if got := s.last(); got.header.Values("X-User-Id") != nil {
			t.Errorf("%s passed the caller's X-User-Id %v", path, got.header.Values("X-User-Id"))
		}
	}
	evil["Authorization"] = "Bearer " + s.token(nil, "")
	for _, path := range []string{"/api/v1/me", "/api/v1/me/cart"} {
		resp, _ := s.do("GET", path, evil, "")
		if got := s.last(); resp.StatusCode != 200 || strings.Join(got.header.Values("X-User-Id"), ",") != "user-1" {
			t.Errorf("%s: %d, X-User-Id %v, want the token's sub", path, resp.StatusCode, got.header.Values("X-User-Id"))
		}
	}
}

func TestBackendAnswersPassUntouched(t *testing.T) {
	s := newStack(t, nil)
	for _, c := range []struct {
		status int
		header map[string]string
		body   string
	}{
		{404, map[string]string{"Content-Type": "application/problem+json"}, `{"type":"about:blank","title":"Not Found","status":404}`},
		{422, map[string]string{"Content-Type": "application/problem+json"}, `{"title":"Unprocessable Entity","status":422,"errors":[{"field":"quantity"}]}`},
		{503, map[string]string{"Content-Type": "application/problem+json", "Retry-After": "7"}, `{"status":503}`},
		{201, map[string]string{"Content-Type": "application/json", "Location": "/api/v1/orders/o-1"}, `{"id":"o-1"}`},
	} {
		s.setRespond(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range c.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		})
		resp, body := s.do("POST", "/api/v1/checkout", map[string]string{"X-Session-Id": "s1"}, "{}")
		if resp.StatusCode != c.status || body != c.body {
			t.Errorf("%d: got %d %q", c.status, resp.StatusCode, body)
		}
		for k, v := range c.header {
			if resp.Header.Get(k) != v {
				t.Errorf("%d: %s %q, want %q", c.status, k, resp.Header.Get(k), v)
			}
		}
		if resp.Header.Get("X-Krakend") != "Version undefined" || resp.Header.Get("X-Krakend-Completed") != "false" {
			t.Errorf("%d: KrakenD headers %v", c.status, resp.Header)
		}
	}
}

func TestBackendDownIs500Empty(t *testing.T) {
	s := newStack(t, nil)
	s.backend.Close()
	resp, body := s.do("GET", "/api/v1/products/1", nil, "")
	if resp.StatusCode != 500 || body != "" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
}

func TestSignerSignsAccessToken(t *testing.T) {
	s := newStack(t, nil)
	claims := `{"sub":"user-1","iss":"microshop","aud":"microshop","exp":4102444800}`
	s.setRespond(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"access_token":`+claims+`,"expires_in":3600}`)
	})
	resp, body := s.do("POST", "/api/v1/auth/register", map[string]string{"Content-Type": "application/json"}, `{"email":"a@b.c"}`)
	// KrakenD answers 200 whatever the backend's 2xx: a decoded response keeps no status.
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("got %d %v %s", resp.StatusCode, resp.Header, body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.ExpiresIn != 3600 {
		t.Fatalf("body %s: %v", body, err)
	}
	jws, err := jose.ParseSignedCompact(out.AccessToken, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	header := jws.Signatures[0].Protected
	if header.KeyID != "microshop-gateway" || header.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("protected header %+v", header)
	}
	public, _ := readKeySet(filepath.Join(s.keys, "public.json"))
	payload, err := jws.Verify(public["microshop-gateway"])
	if err != nil {
		t.Fatal(err)
	}
	if string(payload) != `{"aud":"microshop","exp":4102444800,"iss":"microshop","sub":"user-1"}` {
		t.Errorf("payload %s", payload)
	}
	// And the validator takes it.
	s.setRespond(func(w http.ResponseWriter, r *http.Request) {})
	if resp, _ := s.do("GET", "/api/v1/me", map[string]string{"Authorization": "Bearer " + out.AccessToken}, ""); resp.StatusCode != 200 {
		t.Errorf("the signed token got %d at /me", resp.StatusCode)
	}
}

func TestSignerOnBackendFailureIs400Empty(t *testing.T) {
	s := newStack(t, nil)
	s.setRespond(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"status":401}`)
	})
	resp, body := s.do("POST", "/api/v1/auth/login", nil, `{}`)
	if resp.StatusCode != 400 || body != "" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	s.backend.Close()
	if resp, body := s.do("POST", "/api/v1/auth/login", nil, `{}`); resp.StatusCode != 400 || body != "" {
		t.Errorf("backend down: got %d %q", resp.StatusCode, body)
	}
}

func TestSignerWithoutItsKeyIs401(t *testing.T) {
	s := newStack(t, nil)
	os.Remove(filepath.Join(s.keys, "private.json"))
	cfg, _ := parseConfig(renderReal(t, "local", func(gw map[string]any) {
		gw["keys"] = map[string]any{"kid": "microshop-gateway",
			"private": filepath.Join(s.keys, "private.json"), "public": filepath.Join(s.keys, "public.json")}
	}, nil))
	cfg.ExtraConfig.Logging.Stdout = false
	g, err := newGateway(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.accessLog, g.log.out = nil, io.Discard
	defer g.close(context.Background())
	w := httptest.NewRecorder()
	g.handler.ServeHTTP(w, httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader("{}")))
	if w.Code != 401 || w.Body.Len() != 0 {
		t.Errorf("got %d %q", w.Code, w.Body.String())
	}
}

func TestValidatorRefuses(t *testing.T) {
	s := newStack(t, nil)
	otherDir := t.TempDir()
	if err := writeKeyPair(otherDir, "microshop-gateway"); err != nil {
		t.Fatal(err)
	}
	valid := s.token(nil, "")
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + b64(`{"sub":"admin","iss":"microshop","aud":"microshop","exp":4102444800}`) + "." + parts[2]
	algNone := b64(`{"alg":"none","kid":"microshop-gateway","typ":"JWT"}`) + "." + parts[1] + "."
	for name, authorization := range map[string]string{
		"none":         "",
		"garbage":      "Bearer garbage",
		"empty bearer": "Bearer ",
		"tampered":     "Bearer " + tampered,
		"other key":    "Bearer " + s.token(nil, filepath.Join(otherDir, "private.json")),
		"expired":      "Bearer " + s.token(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}, ""),
		"wrong iss":    "Bearer " + s.token(map[string]any{"iss": "someone"}, ""),
		"wrong aud":    "Bearer " + s.token(map[string]any{"aud": "someone"}, ""),
		"alg none":     "Bearer " + algNone,
	} {
		before := s.count()
		resp, body := s.do("GET", "/api/v1/me", map[string]string{"Authorization": authorization}, "")
		if resp.StatusCode != 401 || body != "" || s.count() != before {
			t.Errorf("%s: got %d %q (backend reached: %v)", name, resp.StatusCode, body, s.count() != before)
		}
	}
	for name, header := range map[string]map[string]string{
		"bearer":           {"Authorization": "Bearer " + valid},
		"no Bearer prefix": {"Authorization": valid},
		"cookie":           {"Cookie": "access_token=" + valid},
	} {
		if resp, _ := s.do("GET", "/api/v1/me", header, ""); resp.StatusCode != 200 {
			t.Errorf("%s: got %d", name, resp.StatusCode)
		}
	}
	// A malformed header is refused even with a good cookie (no fallback).
	if resp, _ := s.do("GET", "/api/v1/me", map[string]string{"Authorization": "Bearer x", "Cookie": "access_token=" + valid}, ""); resp.StatusCode != 401 {
		t.Errorf("bad header with good cookie: got %d", resp.StatusCode)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestRateLimitAnswers429ThenGlobal503(t *testing.T) {
	s := newStack(t, nil)
	var limit *rateLimitConfig
	for _, e := range s.cfg.Endpoints {
		if e.Endpoint == "/api/v1/checkout" {
			limit = e.ExtraConfig.RateLimit
		}
	}
	if limit == nil || limit.ClientCapacity < 1 || limit.Capacity <= limit.ClientCapacity {
		t.Fatalf("POST /api/v1/checkout has no usable rate limit: %+v", limit)
	}
	session := map[string]string{"X-Session-Id": "s1"}
	for i := 1; i <= limit.ClientCapacity+1; i++ {
		resp, body := s.do("POST", "/api/v1/checkout", session, "{}")
		want := 200
		if i > limit.ClientCapacity {
			want = 429
		}
		if resp.StatusCode != want || (want == 429 && body != "") {
			t.Fatalf("request %d: got %d %q, want %d", i, resp.StatusCode, body, want)
		}
	}
	if resp, _ := s.do("POST", "/api/v1/checkout", nil, "{}"); resp.StatusCode != 429 {
		t.Errorf("no session: got %d, want 429", resp.StatusCode)
	}
	// Then the cap for everybody, from other sessions.
	for i := limit.ClientCapacity; i <= 2*limit.Capacity; i++ {
		resp, body := s.do("POST", "/api/v1/checkout", map[string]string{"X-Session-Id": fmt.Sprintf("g%d", i)}, "{}")
		if resp.StatusCode == 503 {
			if body != "" || i < limit.Capacity {
				t.Errorf("503 after %d requests, body %q", i, body)
			}
			return
		}
	}
	t.Error("the global limit never answered 503")
}

func TestRouterAnswersAsGin(t *testing.T) {
	s := newStack(t, nil)
	resp, body := s.do("GET", "/nope", nil, "")
	if resp.StatusCode != 404 || body != "404 page not found" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("404: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = s.do("POST", "/api/v1/me", nil, "")
	if resp.StatusCode != 405 || body != "405 method not allowed" || resp.Header.Get("Allow") != "GET, DELETE, PATCH" {
		t.Errorf("405: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = s.do("GET", "/api/v1/products/42/?x=1", nil, "")
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "/api/v1/products/42?x=1" {
		t.Errorf("trailing slash: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = s.do("POST", "/API/v1/Cart/Items", nil, "")
	if resp.StatusCode != 307 || resp.Header.Get("Location") != "/api/v1/cart/items" {
		t.Errorf("fixed path: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = s.do("GET", "/api/v1/products/a%2541", nil, "")
	if resp.StatusCode != 400 || body != "error: encoded url params" {
		t.Errorf("encoded param: %d %q", resp.StatusCode, body)
	}
}

func TestHealth(t *testing.T) {
	s := newStack(t, nil)
	resp, body := s.do("GET", "/__health", nil, "")
	var out map[string]any
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil || out["status"] != "ok" {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestRunRefusesWhatItDoesNotUnderstand(t *testing.T) {
	rendered := renderReal(t, "local", nil, nil)
	var doc map[string]any
	json.Unmarshal(rendered, &doc)
	for name, edit := range map[string]func(map[string]any){
		"unknown service key": func(d map[string]any) { d["debug_endpoint"] = true },
		"unknown router key": func(d map[string]any) {
			d["extra_config"].(map[string]any)["router"].(map[string]any)["auto_options"] = true
		},
		"unknown endpoint namespace": func(d map[string]any) {
			d["endpoints"].([]any)[0].(map[string]any)["extra_config"] = map[string]any{"security/cors": map[string]any{}}
		},
	} {
		var copied map[string]any
		json.Unmarshal(rendered, &copied)
		edit(copied)
		raw, _ := json.Marshal(copied)
		file := filepath.Join(t.TempDir(), "krakend.json")
		os.WriteFile(file, raw, 0o600)
		t.Setenv("FC_ENABLE", "")
		if err := run(file); err == nil || !strings.Contains(err.Error(), "does not understand") {
			t.Errorf("%s: run returned %v", name, err)
		}
	}
}
