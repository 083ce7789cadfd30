package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	h := newHandler("hello", "dev")
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/health", 200, "ok\n"},
		{"GET", "/hello/health", 200, "ok\n"}, // behind the load balancer's /hello/* rule
		{"GET", "/", 200, `"service":"hello"`},
		{"GET", "/hello/", 200, `"environment":"dev"`},
		{"GET", "/nothing", 404, ""},
		{"POST", "/health", 405, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, rec.Code, tc.status)
		}
		if !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s %s: body %q, want it to contain %q", tc.method, tc.path, rec.Body.String(), tc.body)
		}
	}
}

func TestServesUnderItsOwnName(t *testing.T) {
	rec := httptest.NewRecorder()
	newHandler("billing", "prod").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/billing/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
}
