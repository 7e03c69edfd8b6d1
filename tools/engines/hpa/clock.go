package main

import (
	"fmt"
	"reflect"
	"time"
	"unsafe"

	"k8s.io/kubernetes/pkg/controller/podautoscaler"
)

// The HPA controller (v1.36.0) reads the wall clock (time.Now) for its stabilization window and
// scaling-policy periods and offers no clock to inject. What it compares against the clock is
// the timestamps it keeps in three unexported maps: the recommendations of each HPA and its
// recent scale-up and scale-down events. Advancing time by d is, for the controller, the same
// as making every stored timestamp d older, which is what upstream's own tests do when they
// seed those maps with times in the past. The engine does exactly that between steps, through
// mirrors of the two record types whose layout is checked against the controller's at start.
// The few milliseconds of wall clock a run takes make every record that much older too (as in
// a real cluster, where a sync never runs exactly on the second).

type mirrorRecommendation struct {
	recommendation int32
	timestamp      time.Time
}

type mirrorScaleEvent struct {
	replicaChange int32
	timestamp     time.Time
	outdated      bool
}

type hpaClock struct {
	recommendations *map[string][]mirrorRecommendation
	scaleUp         *map[string][]mirrorScaleEvent
	scaleDown       *map[string][]mirrorScaleEvent
}

func newHPAClock(hc *podautoscaler.HorizontalController) (*hpaClock, error) {
	v := reflect.ValueOf(hc).Elem()
	rec, err := mapField[mirrorRecommendation](v, "recommendations")
	if err != nil {
		return nil, err
	}
	up, err := mapField[mirrorScaleEvent](v, "scaleUpEvents")
	if err != nil {
		return nil, err
	}
	down, err := mapField[mirrorScaleEvent](v, "scaleDownEvents")
	if err != nil {
		return nil, err
	}
	return &hpaClock{rec, up, down}, nil
}

// mapField returns the controller's map[string][]T field name, after checking that its element
// type has the mirror's fields (names, types, offsets) and size.
func mapField[T any](v reflect.Value, name string) (*map[string][]T, error) {
	f := v.FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Map || f.Type().Elem().Kind() != reflect.Slice {
		return nil, fmt.Errorf("HorizontalController.%s is not a map of slices", name)
	}
	got, want := f.Type().Elem().Elem(), reflect.TypeFor[T]()
	if got.Size() != want.Size() || got.NumField() != want.NumField() {
		return nil, fmt.Errorf("HorizontalController.%s: %s does not match the engine's mirror", name, got)
	}
	for i := range want.NumField() {
		g, w := got.Field(i), want.Field(i)
		if g.Name != w.Name || g.Type != w.Type || g.Offset != w.Offset {
			return nil, fmt.Errorf("HorizontalController.%s: field %s does not match the engine's mirror", name, g.Name)
		}
	}
	return (*map[string][]T)(unsafe.Pointer(f.UnsafeAddr())), nil
}

// advance makes every timestamp the controller keeps d older.
func (c *hpaClock) advance(d time.Duration) {
	for _, recs := range *c.recommendations {
		for i := range recs {
			recs[i].timestamp = recs[i].timestamp.Add(-d)
		}
	}
	for _, m := range []*map[string][]mirrorScaleEvent{c.scaleUp, c.scaleDown} {
		for _, evs := range *m {
			for i := range evs {
				evs[i].timestamp = evs[i].timestamp.Add(-d)
			}
		}
	}
}
