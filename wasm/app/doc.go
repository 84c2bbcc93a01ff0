// Package app holds the demo pages' programs, one per page, each compiled
// to a WebAssembly module of its own, so that a page downloads and starts
// only the Go it runs. frontend/src/main.js starts the module named by the
// page's data-wasm attribute; package frontend builds every command here,
// named after its folder (echo → echo.wasm).
package app
