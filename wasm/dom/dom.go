//go:build js && wasm

// Package dom is the little of the browser's DOM that Duplex's Go apps use:
// finding elements, setting text and attributes, and listening to events.
package dom

import "syscall/js"

// An Element is a DOM element.
type Element struct{ v js.Value }

var document = js.Global().Get("document")

// ByID returns the element with the id; it panics if there is none, since
// that means the page and the app disagree.
func ByID(id string) Element {
	v := document.Call("getElementById", id)
	if v.IsNull() {
		panic("dom: no element with id " + id)
	}
	return Element{v}
}

// Body returns the document's body.
func Body() Element { return Element{document.Get("body")} }

// Value returns the element's JavaScript value.
func (e Element) Value() js.Value { return e.v }

// Data returns the element's data-name attribute.
func (e Element) Data(name string) string {
	v := e.v.Get("dataset").Get(name)
	if v.IsUndefined() {
		return ""
	}
	return v.String()
}

// SetData sets the element's data-name attribute.
func (e Element) SetData(name, value string) { e.v.Get("dataset").Set(name, value) }

// SetText replaces the element's content with text, never parsed as HTML.
func (e Element) SetText(text string) { e.v.Set("textContent", text) }

// Input returns the value of an input, select or textarea element.
func (e Element) Input() string { return e.v.Get("value").String() }

// SetInput sets the value of an input, select or textarea element.
func (e Element) SetInput(s string) { e.v.Set("value", s) }

// Checked reports whether a checkbox is checked.
func (e Element) Checked() bool { return e.v.Get("checked").Bool() }

// SetDisabled enables or disables a form control.
func (e Element) SetDisabled(disabled bool) { e.v.Set("disabled", disabled) }

// Append adds a new element with the tag, class and text at the end of e's
// children, and returns it.
func (e Element) Append(tag, class, text string) Element {
	child := document.Call("createElement", tag)
	if class != "" {
		child.Set("className", class)
	}
	child.Set("textContent", text)
	e.v.Call("appendChild", child)
	return Element{child}
}

// SetAttr sets the element's attribute name to value.
func (e Element) SetAttr(name, value string) { e.v.Call("setAttribute", name, value) }

// SetHidden shows or hides the element, with its hidden attribute.
func (e Element) SetHidden(hidden bool) { e.v.Set("hidden", hidden) }

// Focus moves the keyboard focus to the element.
func (e Element) Focus() { e.v.Call("focus") }

// Remove takes the element out of the document.
func (e Element) Remove() { e.v.Call("remove") }

// ScrollToEnd scrolls e to show its last child.
func (e Element) ScrollToEnd() { e.v.Set("scrollTop", e.v.Get("scrollHeight")) }

// Clear removes all of e's children.
func (e Element) Clear() { e.v.Set("textContent", "") }

// On calls f each time the event fires on e; events named "submit" do not
// reload the page. f runs on the browser's event loop, so it must not block:
// start a goroutine for work that waits. The listener lives as long as the
// page.
func (e Element) On(event string, f func()) {
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if event == "submit" && len(args) > 0 {
			args[0].Call("preventDefault")
		}
		f()
		return nil
	})
	e.v.Call("addEventListener", event, fn)
}

// OnTarget is On for events on e's descendants, such as clicks on buttons
// that come and go: one listener on e serves them all, and f gets the
// element the event happened on.
func (e Element) OnTarget(event string, f func(target Element)) {
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		f(Element{args[0].Get("target")})
		return nil
	})
	e.v.Call("addEventListener", event, fn)
}

// Now returns the page's high-resolution clock, in milliseconds.
func Now() float64 { return js.Global().Get("performance").Call("now").Float() }

// Fixed formats f with the given number of decimals, as JavaScript's
// toFixed does. The browser's formatting keeps strconv's float tables out
// of the module.
func Fixed(f float64, decimals int) string {
	return js.Global().Get("Number").New(f).Call("toFixed", decimals).String()
}
