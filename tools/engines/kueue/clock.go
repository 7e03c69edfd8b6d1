package main

import (
	"reflect"
	"unsafe"

	"k8s.io/utils/clock"
)

// setClock points an unexported `clock` field at the harness's fixed clock, for the controllers
// whose constructors offer no clock option (Kueue's own tests set it from inside the package).
func setClock(target any, c clock.Clock) {
	field := reflect.ValueOf(target).Elem().FieldByName("clock")
	if !field.IsValid() {
		panic("no clock field in " + reflect.TypeOf(target).String())
	}
	reflect.NewAt(field.Type(), unsafe.Pointer(field.UnsafeAddr())).Elem().Set(reflect.ValueOf(c))
}
