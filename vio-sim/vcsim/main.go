// vio-vcsim: govmomi's vCenter simulator with the inventory vio-checks' tests ask for.
//
// It builds the VPX model (clusters x hosts, datastores, no VMs unless asked), serves it on 127.0.0.1 and
// prints one JSON line {"url": ..., "instance_uuid": ...}. It stops on SIGTERM/SIGINT or when its stdin
// closes (so it never outlives the test run that started it). The default model accepts any user/password.
//
// Beside /sdk it serves, for the tests only:
//
//	GET  /vio/stats       {"requests": N, "methods": {"RetrievePropertiesEx": n, ...}}: SOAP calls served
//	POST /vio/host        ref=host-21 [connection=disconnected] [power=poweredOff] [status=red]
//	POST /vio/alarm       type=HostSystem ref=host-21 status=red   (adds a triggered alarm)
//	POST /vio/datastore   ref=datastore-55 [accessible=false] [free=<bytes>]
//
// The staging endpoints change what this simulator version cannot change through the vSphere API itself.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var soapMethod = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?Body[^>]*>\s*<(?:[A-Za-z0-9_]+:)?([A-Za-z0-9_]+)`)

type stats struct {
	mu       sync.Mutex
	requests int
	methods  map[string]int
}

func (s *stats) count(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.methods[name]++
}

func main() {
	clusters := flag.Int("clusters", 2, "clusters per datacenter")
	hosts := flag.Int("hosts", 3, "ESXi hosts per cluster")
	standalone := flag.Int("standalone", 0, "standalone ESXi hosts per datacenter")
	datastores := flag.Int("datastores", 1, "datastores (mounted on every host)")
	vms := flag.Int("vms", 0, "VMs per resource pool created by the model")
	instanceUUID := flag.String("instance-uuid", "", "vCenter about.instanceUuid (default: the simulator's)")
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	flag.Parse()

	model := simulator.VPX()
	model.Cluster = *clusters
	model.ClusterHost = *hosts
	model.Host = *standalone
	model.Datastore = *datastores
	model.Machine = *vms
	model.Portgroup = 0
	if *instanceUUID != "" {
		model.ServiceContent.About.InstanceUuid = *instanceUUID
	}
	if err := model.Create(); err != nil {
		log.Fatalf("vio-vcsim: cannot build the model: %s", err)
	}
	defer model.Remove()

	st := &stats{methods: map[string]int{}}
	svc := model.Service
	svc.Listen = &url.URL{Host: *listen}
	svc.ServeMux = http.NewServeMux()
	// Host-specific patterns win over the simulator's own "/sdk": count, then hand over to it.
	countSDK := func(w http.ResponseWriter, r *http.Request) {
		body, _ := ioutil.ReadAll(r.Body)
		_ = r.Body.Close()
		name := "?"
		if m := soapMethod.FindSubmatch(body); m != nil {
			name = string(m[1])
		}
		st.count(name)
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		svc.ServeSDK(w, r)
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		svc.ServeMux.HandleFunc(host+"/sdk", countSDK)
	}
	svc.ServeMux.HandleFunc("/vio/stats", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		defer st.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]interface{}{"requests": st.requests, "methods": st.methods})
	})
	svc.ServeMux.HandleFunc("/vio/host", stageHost)
	svc.ServeMux.HandleFunc("/vio/alarm", stageAlarm)
	svc.ServeMux.HandleFunc("/vio/datastore", stageDatastore)

	server := svc.NewServer()
	defer server.Close()

	u := *server.URL
	u.User = nil
	out, _ := json.Marshal(map[string]string{
		"url":           u.String(),
		"instance_uuid": model.ServiceContent.About.InstanceUuid,
	})
	fmt.Println(string(out))
	_ = os.Stdout.Sync()

	done := make(chan os.Signal, 1)
	signal.Notify(done, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		_, _ = io.Copy(ioutil.Discard, bufio.NewReader(os.Stdin))
		done <- syscall.SIGHUP
	}()
	<-done
}

// lookup finds a managed object by type and moref value.
func lookup(kind, value string) (mo.Reference, error) {
	obj := simulator.Map.Get(types.ManagedObjectReference{Type: kind, Value: value})
	if obj == nil {
		return nil, fmt.Errorf("no %s %s", kind, value)
	}
	return obj, nil
}

func fail(w http.ResponseWriter, code int, err error) {
	http.Error(w, err.Error(), code)
}

func stageHost(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("POST a form"))
		return
	}
	obj, err := lookup("HostSystem", r.Form.Get("ref"))
	if err != nil {
		fail(w, http.StatusNotFound, err)
		return
	}
	h := obj.(*simulator.HostSystem)
	simulator.Map.WithLock(h, func() {
		if v := r.Form.Get("connection"); v != "" {
			h.Runtime.ConnectionState = types.HostSystemConnectionState(v)
		}
		if v := r.Form.Get("power"); v != "" {
			h.Runtime.PowerState = types.HostSystemPowerState(v)
		}
		if v := r.Form.Get("maintenance"); v != "" {
			h.Runtime.InMaintenanceMode = v == "true"
		}
		if v := r.Form.Get("status"); v != "" {
			h.OverallStatus = types.ManagedEntityStatus(v)
			h.Summary.OverallStatus = types.ManagedEntityStatus(v)
		}
	})
	w.WriteHeader(http.StatusNoContent)
}

func stageAlarm(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("POST a form"))
		return
	}
	obj, err := lookup(r.Form.Get("type"), r.Form.Get("ref"))
	if err != nil {
		fail(w, http.StatusNotFound, err)
		return
	}
	e, ok := obj.(mo.Entity)
	if !ok {
		fail(w, http.StatusBadRequest, fmt.Errorf("not a managed entity"))
		return
	}
	status := r.Form.Get("status")
	if status == "" {
		status = "red"
	}
	simulator.Map.WithLock(obj, func() {
		me := e.Entity()
		n := len(me.TriggeredAlarmState) + 1
		me.TriggeredAlarmState = append(me.TriggeredAlarmState, types.AlarmState{
			Key:           "alarm-" + strconv.Itoa(n) + "." + obj.Reference().Value,
			Entity:        obj.Reference(),
			Alarm:         types.ManagedObjectReference{Type: "Alarm", Value: "alarm-" + strconv.Itoa(n)},
			OverallStatus: types.ManagedEntityStatus(status),
			Time:          time.Now(),
		})
	})
	w.WriteHeader(http.StatusNoContent)
}

func stageDatastore(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("POST a form"))
		return
	}
	obj, err := lookup("Datastore", r.Form.Get("ref"))
	if err != nil {
		fail(w, http.StatusNotFound, err)
		return
	}
	ds := obj.(*simulator.Datastore)
	simulator.Map.WithLock(ds, func() {
		if v := r.Form.Get("accessible"); v != "" {
			ds.Summary.Accessible = v == "true"
		}
		if v := r.Form.Get("free"); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ds.Summary.FreeSpace = n
			}
		}
	})
	w.WriteHeader(http.StatusNoContent)
}
