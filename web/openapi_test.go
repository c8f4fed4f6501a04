package web

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"sparekey/lockout"
)

// apiRoute is one /api/ route as routes.go registers it.
type apiRoute struct {
	method, path string // path in OpenAPI form: {name} for every wildcard
	staff, dev   bool   // wrapped in requireStaff, devOnly
}

// registeredAPIRoutes reads routes.go and returns every mux.Handle pattern
// under /api/, keyed "METHOD /path". Reading the source rather than the mux
// also tells which routes requireStaff and devOnly wrap.
func registeredAPIRoutes(t *testing.T) map[string]apiRoute {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "routes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]apiRoute{}
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
			return true
		}
		pos := fset.Position(call.Pos())
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Errorf("%s: route pattern is not a string literal; this test cannot check it", pos)
			return false
		}
		pattern, _ := strconv.Unquote(lit.Value)
		method, path, hasMethod := strings.Cut(pattern, " ")
		if !hasMethod {
			method, path = "", pattern
		}
		if !strings.HasPrefix(path, "/api/") {
			return false
		}
		if !hasMethod {
			t.Errorf("%s: API route %q has no method; the OpenAPI document needs one", pos, pattern)
			return false
		}
		if strings.HasSuffix(path, "/") {
			t.Errorf("%s: API route %q matches a whole subtree; OpenAPI cannot describe it", pos, pattern)
			return false
		}
		r := apiRoute{method: method, path: openAPIPath(path)}
		ast.Inspect(call.Args[1], func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if id, ok := c.Fun.(*ast.Ident); ok {
					r.staff = r.staff || id.Name == "requireStaff"
					r.dev = r.dev || id.Name == "devOnly"
				}
			}
			return true
		})
		key := r.method + " " + r.path
		if _, dup := routes[key]; dup {
			t.Errorf("%s: %s registered twice", pos, key)
		}
		routes[key] = r
		return false
	})
	if len(routes) == 0 {
		t.Fatal("found no /api/ routes in routes.go")
	}
	return routes
}

var wildcard = regexp.MustCompile(`\{([^}]*?)(\.\.\.)?\}`)

// openAPIPath turns a ServeMux path into an OpenAPI one: {name...} is
// {name}, and {$} (exactly this path) is nothing.
func openAPIPath(p string) string {
	return wildcard.ReplaceAllStringFunc(p, func(w string) string {
		m := wildcard.FindStringSubmatch(w)
		if m[1] == "$" {
			return ""
		}
		return "{" + m[1] + "}"
	})
}

var httpMethods = map[string]string{"get": "GET", "put": "PUT", "post": "POST", "delete": "DELETE",
	"options": "OPTIONS", "head": "HEAD", "patch": "PATCH", "trace": "TRACE"}

// openAPI is the embedded document, parsed loosely (any JSON value), with
// helpers that follow local $refs.
type openAPI struct {
	t    *testing.T
	root map[string]any
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(openAPIDocument, &root); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &openAPI{t: t, root: root}
}

// lookup follows a local JSON pointer such as #/components/schemas/Error.
func (d *openAPI) lookup(ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var v any = d.root
	for part := range strings.SplitSeq(rest, "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok {
			return nil, false
		}
	}
	return v, true
}

// object returns v as a JSON object, following a $ref; where names it in
// failures.
func (d *openAPI) object(v any, where string) map[string]any {
	d.t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		d.t.Errorf("%s: not a JSON object", where)
		return map[string]any{}
	}
	if ref, ok := m["$ref"].(string); ok {
		target, ok := d.lookup(ref)
		if !ok {
			d.t.Errorf("%s: $ref %s does not resolve", where, ref)
			return map[string]any{}
		}
		return d.object(target, ref)
	}
	return m
}

// operation is one documented method of one path.
type operation struct {
	key    string // "METHOD /path"
	path   string
	op     map[string]any
	params []any // path-level, then operation-level
}

func (d *openAPI) operations() map[string]operation {
	d.t.Helper()
	ops := map[string]operation{}
	paths := d.object(d.root["paths"], "paths")
	for path, item := range paths {
		item := d.object(item, path)
		pathParams, _ := item["parameters"].([]any)
		for name, op := range item {
			method, ok := httpMethods[name]
			if !ok {
				continue
			}
			key := method + " " + path
			opParams, _ := d.object(op, key)["parameters"].([]any)
			ops[key] = operation{key: key, path: path, op: d.object(op, key), params: append(slices.Clone(pathParams), opParams...)}
		}
	}
	return ops
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestOpenAPIMatchesRoutes fails when routes.go and openapi.json disagree:
// a route without documentation, documentation without a route, or a route
// whose auth or demo-only status differs from what the document says.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	routes := registeredAPIRoutes(t)
	doc := loadOpenAPI(t)
	ops := doc.operations()

	for _, key := range sortedKeys(routes) {
		if _, ok := ops[key]; !ok {
			t.Errorf("routes.go registers %s but openapi.json does not document it", key)
		}
	}
	for _, key := range sortedKeys(ops) {
		if _, ok := routes[key]; !ok {
			t.Errorf("openapi.json documents %s but routes.go does not register it", key)
		}
	}

	bearer := map[string]bool{}
	for name, s := range doc.object(doc.object(doc.root["components"], "components")["securitySchemes"], "securitySchemes") {
		s := doc.object(s, "securitySchemes/"+name)
		if scheme, _ := s["scheme"].(string); s["type"] == "http" && strings.EqualFold(scheme, "bearer") {
			bearer[name] = true
		}
	}
	if len(bearer) == 0 {
		t.Error("components.securitySchemes has no http bearer scheme")
	}
	if _, ok := doc.root["security"]; ok {
		t.Error("the document has a top-level security requirement; public routes would inherit it: set security per operation")
	}

	for _, key := range sortedKeys(routes) {
		r, o := routes[key], ops[key]
		if o.op == nil {
			continue
		}
		security, _ := o.op["security"].([]any)
		needsBearer := false
		for _, req := range security {
			for name := range doc.object(req, key+" security") {
				needsBearer = needsBearer || bearer[name]
			}
		}
		switch {
		case r.staff && !needsBearer:
			t.Errorf("%s: requireStaff in routes.go, but no bearer security requirement in openapi.json", key)
		case !r.staff && len(security) > 0:
			t.Errorf("%s: public in routes.go, but openapi.json requires %v", key, security)
		}
		responses := doc.object(o.op["responses"], key+" responses")
		if _, ok := responses["401"]; r.staff && !ok {
			t.Errorf("%s: staff route without a 401 response", key)
		}
		demoOnly, _ := o.op["x-sparekey-demo-only"].(bool)
		if r.dev != demoOnly {
			t.Errorf("%s: devOnly in routes.go is %t, x-sparekey-demo-only is %t", key, r.dev, demoOnly)
		}
		if _, ok := responses["404"]; r.dev && !ok {
			t.Errorf("%s: dev route without the 404 it answers without --demo", key)
		}
	}
}

// TestOpenAPIDocument checks the document on its own: OpenAPI 3.1, unique
// operation ids, path parameters that match the path, every $ref
// resolving, and error responses in the one error shape with codes whose
// status is the one respond.go maps them to.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)

	if v, _ := doc.root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info := doc.object(doc.root["info"], "info")
	for _, f := range []string{"title", "version"} {
		if s, _ := info[f].(string); s == "" {
			t.Errorf("info.%s is missing", f)
		}
	}
	for _, f := range []string{"paths", "components"} {
		if _, ok := doc.root[f].(map[string]any); !ok {
			t.Errorf("%s is missing", f)
		}
	}

	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, ok := doc.lookup(ref); !ok {
					t.Errorf("%s: $ref %s does not resolve", where, ref)
				}
			}
			for k, e := range v {
				walk(e, where+"/"+k)
			}
		case []any:
			for i, e := range v {
				walk(e, where+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc.root, "#")

	// The error codes in the document are the ones respond.go maps.
	errSchema := doc.object(doc.object(doc.object(doc.root["components"], "components")["schemas"], "schemas")["Error"], "Error")
	inner := doc.object(doc.object(errSchema["properties"], "Error.properties")["error"], "Error.error")
	code := doc.object(doc.object(inner["properties"], "Error.error.properties")["code"], "Error.error.code")
	var documented []string
	enum, _ := code["enum"].([]any)
	for _, c := range enum {
		s, _ := c.(string)
		documented = append(documented, s)
	}
	sort.Strings(documented)
	if mapped := sortedKeys(statusOf); !slices.Equal(documented, mapped) {
		t.Errorf("Error.code enum = %v, respond.go maps %v", documented, mapped)
	}

	codeRef := regexp.MustCompile("`([a-z_]+)`")
	ids := map[string]string{}
	ops := doc.operations()
	for _, key := range sortedKeys(ops) {
		o := ops[key]
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", key)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s: operationId %q is also %s's", key, id, other)
		}
		ids[id] = key

		want := map[string]bool{}
		for _, m := range wildcard.FindAllStringSubmatch(o.path, -1) {
			want[m[1]] = true
		}
		got := map[string]bool{}
		for i, p := range o.params {
			p := doc.object(p, key+" parameter "+strconv.Itoa(i))
			if p["in"] != "path" {
				continue
			}
			name, _ := p["name"].(string)
			got[name] = true
			if p["required"] != true {
				t.Errorf("%s: path parameter %q is not required", key, name)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: path parameters %v, the path has %v", key, sortedKeys(got), sortedKeys(want))
		}

		responses := doc.object(o.op["responses"], key+" responses")
		if len(responses) == 0 {
			t.Errorf("%s: no responses", key)
		}
		for _, status := range sortedKeys(responses) {
			where := key + " " + status
			n, err := strconv.Atoi(status)
			if err != nil || n < 100 || n > 599 {
				t.Errorf("%s: %q is not an HTTP status", where, status)
				continue
			}
			resp := doc.object(responses[status], where)
			desc, _ := resp["description"].(string)
			if desc == "" {
				t.Errorf("%s: no description", where)
			}
			if n < 400 {
				continue
			}
			content := doc.object(resp["content"], where+" content")
			schema := doc.object(content["application/json"], where+" application/json")["schema"]
			if m, _ := schema.(map[string]any); m["$ref"] != "#/components/schemas/Error" {
				t.Errorf("%s: schema is %v, want the Error schema", where, schema)
			}
			codes := 0
			for _, m := range codeRef.FindAllStringSubmatch(desc, -1) {
				if s, ok := statusOf[m[1]]; ok {
					codes++
					if s != n {
						t.Errorf("%s: names code %s, which respond.go answers with %d", where, m[1], s)
					}
				}
			}
			if codes == 0 {
				t.Errorf("%s: the description names no error code in `backquotes`", where)
			}
		}
	}
}

// TestOpenAPISchemasMatchTypes compares the response schemas with the Go
// types the handlers encode: the same JSON names, and required exactly
// where the field has no omitempty.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	types := map[string]reflect.Type{
		"Error":         reflect.TypeFor[errorBody](),
		"Lock":          reflect.TypeFor[lockResponse](),
		"SlotProblem":   reflect.TypeFor[slotJSON](),
		"LockEvent":     reflect.TypeFor[lockEventJSON](),
		"Reveal":        reflect.TypeFor[revealResponse](),
		"BackupCode":    reflect.TypeFor[lockout.BackupCode](),
		"WorkOrder":     reflect.TypeFor[workOrderResponse](),
		"OutboxMessage": reflect.TypeFor[outboxItem](),
		"KeypadResult":  reflect.TypeFor[KeypadResult](),
	}
	schemas := doc.object(doc.object(doc.root["components"], "components")["schemas"], "schemas")
	for _, name := range sortedKeys(types) {
		schema := doc.object(schemas[name], name)
		var props, required []string
		for p := range doc.object(schema["properties"], name+".properties") {
			props = append(props, p)
		}
		list, _ := schema["required"].([]any)
		for _, r := range list {
			s, _ := r.(string)
			required = append(required, s)
		}
		sort.Strings(props)
		sort.Strings(required)
		var fields, wantRequired []string
		typ := types[name]
		for i := range typ.NumField() {
			tag, ok := typ.Field(i).Tag.Lookup("json")
			field, opts, _ := strings.Cut(tag, ",")
			if !ok || field == "-" || !typ.Field(i).IsExported() {
				continue
			}
			fields = append(fields, field)
			if !strings.Contains(opts, "omitempty") {
				wantRequired = append(wantRequired, field)
			}
		}
		sort.Strings(fields)
		sort.Strings(wantRequired)
		if !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v, %s encodes %v", name, props, typ, fields)
		}
		if !slices.Equal(required, wantRequired) {
			t.Errorf("schema %s requires %v, %s always encodes %v", name, required, typ, wantRequired)
		}
	}

	var accepted map[string]any
	if err := json.Unmarshal(acceptedBody, &accepted); err != nil {
		t.Fatal(err)
	}
	props := doc.object(doc.object(schemas["BackupCodeRequestAccepted"], "BackupCodeRequestAccepted")["properties"], "properties")
	if got, want := sortedKeys(props), sortedKeys(accepted); !slices.Equal(got, want) {
		t.Errorf("schema BackupCodeRequestAccepted has %v, the answer has %v", got, want)
	}
}

func TestServeOpenAPI(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	resp, body := send(t, srv, http.MethodGet, "/api/v1/openapi.json", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q, want cacheable", cc)
	}
	if body != string(openAPIDocument) || !json.Valid([]byte(body)) {
		t.Errorf("body is not the embedded document")
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	resp, body = send(t, srv, http.MethodGet, "/api/v1/openapi.json", "", "", "If-None-Match", `"other", `+etag)
	if resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("with If-None-Match: status %d, body %q; want 304 and none", resp.StatusCode, body)
	}
	resp, _ = send(t, srv, http.MethodGet, "/api/v1/openapi.json", "", "", "If-None-Match", `"other"`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with a stale If-None-Match: status %d, want 200", resp.StatusCode)
	}
}
