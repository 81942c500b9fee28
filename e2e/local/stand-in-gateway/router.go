package main

// Routing as KrakenD's gin engine routes (lura router/gin/engine.go sets
// RedirectTrailingSlash, RedirectFixedPath and HandleMethodNotAllowed): one tree per
// method, in the order the methods were first registered, static segments before
// :params. Enough of gin's tree for plain and :param segments, which is all the
// configuration can hold (normalize refuses the rest).

import (
	"fmt"
	"net/http"
	"path"
	"strings"
)

type node struct {
	static    map[string]*node
	param     *node
	paramName string
	handler   func(*exchange)
	route     string
	keys      []string // lura's names for the route's parameters: id → Id
}

type methodTree struct {
	method string
	root   *node
}

type router struct {
	trees []*methodTree
}

func newRouter() *router { return &router{} }

func (rt *router) tree(method string) *methodTree {
	for _, t := range rt.trees {
		if t.method == method {
			return t
		}
	}
	return nil
}

// add registers a route, refusing what makes gin panic at start.
func (rt *router) add(method, route string, h func(*exchange)) error {
	t := rt.tree(method)
	if t == nil {
		t = &methodTree{method: method, root: &node{}}
		rt.trees = append(rt.trees, t)
	}
	n := t.root
	var keys []string
	for _, segment := range strings.Split(route[1:], "/") {
		if strings.HasPrefix(segment, ":") {
			name := segment[1:]
			keys = append(keys, paramKey(name))
			if n.param == nil {
				n.param = &node{paramName: name}
			} else if n.param.paramName != name {
				return fmt.Errorf("%s %s: ':%s' conflicts with ':%s' in an existing route", method, route, name, n.param.paramName)
			}
			n = n.param
			continue
		}
		if n.static == nil {
			n.static = map[string]*node{}
		}
		child := n.static[segment]
		if child == nil {
			child = &node{}
			n.static[segment] = child
		}
		n = child
	}
	if n.route != "" {
		return fmt.Errorf("%s %s is registered twice", method, route)
	}
	n.route, n.handler, n.keys = route, h, keys
	return nil
}

// match finds the route for the path's segments, static first and then the
// parameter, backtracking as gin does; values are the parameters' values.
func (n *node) match(segments []string, values []string) (*node, []string) {
	if len(segments) == 0 {
		if n.route != "" {
			return n, values
		}
		return nil, nil
	}
	segment := segments[0]
	if child := n.static[segment]; child != nil {
		if found, v := child.match(segments[1:], values); found != nil {
			return found, v
		}
	}
	if n.param != nil && segment != "" {
		if found, v := n.param.match(segments[1:], append(values, segment)); found != nil {
			return found, v
		}
	}
	return nil, nil
}

func (t *methodTree) lookup(p string) (*node, []string) {
	if !strings.HasPrefix(p, "/") {
		return nil, nil
	}
	return t.root.match(strings.Split(p[1:], "/"), nil)
}

// matchFold is gin's findCaseInsensitivePath: static segments compared without
// case, written back as registered; parameters kept as sent.
func (n *node) matchFold(segments []string, out []string) []string {
	if len(segments) == 0 {
		if n.route != "" {
			return out
		}
		return nil
	}
	segment := segments[0]
	for name, child := range n.static {
		if strings.EqualFold(name, segment) {
			if found := child.matchFold(segments[1:], append(out, name)); found != nil {
				return found
			}
		}
	}
	if n.param != nil && segment != "" {
		return n.param.matchFold(segments[1:], append(out, segment))
	}
	return nil
}

// fixedPath is the path gin redirects to: cleaned, case fixed, a trailing slash
// added or removed.
func (t *methodTree) fixedPath(p string) (string, bool) {
	clean := cleanPath(p)
	segments := strings.Split(clean[1:], "/")
	found := t.root.matchFold(segments, nil)
	if found == nil && len(segments) > 1 && segments[len(segments)-1] == "" {
		found = t.root.matchFold(segments[:len(segments)-1], nil)
	}
	if found == nil {
		if found = t.root.matchFold(append(segments, ""), nil); found == nil {
			return "", false
		}
	}
	return "/" + strings.Join(found, "/"), true
}

// cleanPath is httprouter's CleanPath: path.Clean keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	clean := path.Clean(p)
	if p[len(p)-1] == '/' && clean != "/" {
		clean += "/"
	}
	return clean
}

type routeResult int

const (
	routeFound routeResult = iota
	routeRedirected
	routeNotAllowed
	routeNotFound
)

// route does what gin's handleHTTPRequest does before running handlers; a
// redirect is answered here, with no handler (so no access-log line), as gin does.
func (rt *router) route(w http.ResponseWriter, r *http.Request) (routeResult, *node, []string, string) {
	p := r.URL.Path
	if t := rt.tree(r.Method); t != nil {
		if n, values := t.lookup(p); n != nil {
			return routeFound, n, values, ""
		}
		if r.Method != http.MethodConnect && p != "/" {
			if tsr(t, p) {
				redirectTrailingSlash(w, r)
				return routeRedirected, nil, nil, ""
			}
			if fixed, ok := t.fixedPath(p); ok {
				redirectTo(w, r, fixed)
				return routeRedirected, nil, nil, ""
			}
		}
	}
	var allowed []string
	for _, t := range rt.trees {
		if t.method == r.Method {
			continue
		}
		if n, _ := t.lookup(p); n != nil {
			allowed = append(allowed, t.method)
		}
	}
	if len(allowed) > 0 {
		return routeNotAllowed, nil, nil, strings.Join(allowed, ", ")
	}
	return routeNotFound, nil, nil, ""
}

// tsr is gin's trailing slash recommendation: the path with one slash less or more
// has a route.
func tsr(t *methodTree, p string) bool {
	if strings.HasSuffix(p, "/") {
		n, _ := t.lookup(p[:len(p)-1])
		return n != nil
	}
	n, _ := t.lookup(p + "/")
	return n != nil
}

// redirectTrailingSlash is gin's, X-Forwarded-Prefix and all.
func redirectTrailingSlash(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if prefix := path.Clean(r.Header.Get("X-Forwarded-Prefix")); prefix != "." {
		prefix = strings.Map(func(c rune) rune {
			if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '-' {
				return c
			}
			return -1
		}, prefix)
		for strings.Contains(prefix, "//") {
			prefix = strings.ReplaceAll(prefix, "//", "/")
		}
		p = prefix + "/" + r.URL.Path
	}
	target := p + "/"
	if length := len(p); length > 1 && p[length-1] == '/' {
		target = p[:length-1]
	}
	redirectTo(w, r, target)
}

// redirectTo is gin's redirectRequest: 301 for GET, 307 otherwise.
func redirectTo(w http.ResponseWriter, r *http.Request, p string) {
	u := *r.URL
	u.Path = p
	r.URL.Path = p // gin changes the request's path before http.Redirect reads it
	code := http.StatusMovedPermanently
	if r.Method != http.MethodGet {
		code = http.StatusTemporaryRedirect
	}
	http.Redirect(w, r, u.String(), code)
}
