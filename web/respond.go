package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"sparekey"
)

// statusOf maps every error code to its HTTP status; the one table.
var statusOf = map[string]int{
	sparekey.EINVALID:        http.StatusBadRequest,
	sparekey.EINVALIDCONTACT: http.StatusBadRequest,
	sparekey.EUNAUTHORIZED:   http.StatusUnauthorized,
	sparekey.EFORBIDDEN:      http.StatusForbidden,
	sparekey.ENOTFOUND:       http.StatusNotFound,
	sparekey.ELINKNOTFOUND:   http.StatusNotFound,
	sparekey.ELINKEXPIRED:    http.StatusGone,
	sparekey.ECONFLICT:       http.StatusConflict,
	sparekey.ELOCKOFFLINE:    http.StatusConflict,
	sparekey.ELOCKJAMMED:     http.StatusConflict,
	sparekey.ELOCKTIMEOUT:    http.StatusGatewayTimeout,
	sparekey.ELOCKFAILED:     http.StatusBadGateway,
	sparekey.ERATELIMITED:    http.StatusTooManyRequests,
	sparekey.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	sparekey.ENOTIMPLEMENTED: http.StatusNotImplemented,
	sparekey.EINTERNAL:       http.StatusInternalServerError,
}

func httpStatus(err error) int {
	if s, ok := statusOf[sparekey.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// maxBody is the largest request body any handler reads.
const maxBody = 16 << 10

func encode[T any](w http.ResponseWriter, status int, v T) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers with the JSON error shape. Only internal errors are
// logged with detail; their detail never reaches the caller.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := sparekey.ErrorCode(err)
	if code == sparekey.EINTERNAL && r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client went away mid-request: nobody reads this answer, and
		// it is no server error.
		log.Info("client left before the answer", "method", r.Method, "route", r.Pattern)
		return
	}
	if code == sparekey.EINTERNAL {
		log.Error("internal error", "method", r.Method, "route", r.Pattern, "err", err)
	}
	if code == sparekey.ERATELIMITED {
		w.Header().Set("Retry-After", "60")
	}
	var body errorBody
	body.Error.Code = code
	body.Error.Message = sparekey.ErrorMessage(err)
	encode(w, httpStatus(err), body)
}

// decode reads a JSON object body into v, refusing unknown fields, trailing
// data and bodies over maxBody, with a clear invalid_request error.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, badJSON(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, sparekey.Errorf(sparekey.EINVALID, "Request body must hold a single JSON object.")
	}
	return v, nil
}

func badJSON(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return sparekey.Errorf(sparekey.ETOOLARGE, "Request body is larger than %d bytes.", maxBody)
	case errors.As(err, &syntax):
		return sparekey.Errorf(sparekey.EINVALID, "Request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.As(err, &typ):
		return sparekey.Errorf(sparekey.EINVALID, "Field %q must be a %s.", typ.Field, typ.Type)
	case errors.Is(err, io.EOF):
		return sparekey.Errorf(sparekey.EINVALID, "Request body is empty; send a JSON object.")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return sparekey.Errorf(sparekey.EINVALID, "Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return sparekey.Errorf(sparekey.EINVALID, "Request body is not a valid JSON object: %s", trimJSONErr(err))
}

func trimJSONErr(err error) string {
	return strings.TrimPrefix(fmt.Sprint(err), "json: ")
}

// handleUnrouted answers what no route took: 405 for an API route called
// with a method it does not have (the catch-all hides ServeMux's own),
// else 404.
func handleUnrouted(cfg Config, mux *http.ServeMux) http.Handler {
	notFound := handleNotFound()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") || (cfg.Dev == nil && strings.HasPrefix(r.URL.Path, "/api/v1/dev/")) {
			notFound.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if _, pattern := mux.Handler(&http.Request{Method: m, URL: r.URL}); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			notFound.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		var body errorBody
		body.Error.Code = "method_not_allowed"
		body.Error.Message = fmt.Sprintf("This API route does not take %s; use %s.", r.Method, strings.Join(allow, " or ")) // no path: it may hold a token
		encode(w, http.StatusMethodNotAllowed, body)
	})
}

// handleNotFound answers an unknown path: the JSON error under /api/, a
// page elsewhere. The path is not echoed: it may hold a link token.
func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeError(w, r, nil, sparekey.Errorf(sparekey.ENOTFOUND, "No such API route."))
			return
		}
		render(w, r, nil, http.StatusNotFound, "not_found", "Page not found", nil)
	})
}
