"""Background workers that take items off hook queues and run the hook's scenario on them.

Make queues every webhook request; an active ``immediately`` scenario takes items as they come
(in parallel unless ``metadata.scenario.sequential``), an inactive or scheduled one leaves them
queued. Workers here do the same: a job only says "hook N may have work"; the worker pops the
oldest item if, at that moment, the hook's scenario is runnable. Stale jobs are harmless.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading

import httpx

from .flow import FlowRun
from .state import utc_now_iso

log = logging.getLogger(__name__)


class Runner:
    def __init__(self, emulator):
        self._emulator = emulator
        self._jobs: queue.Queue = queue.Queue()
        self._cancel = threading.Event()  # replaced by cancel_all(); each job keeps its own
        self._sequential_locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.http = httpx.Client(timeout=emulator.config.callback_timeout, trust_env=False)
        # Daemon threads: a worker waiting out a Break interval must not block interpreter exit.
        self._threads = [
            threading.Thread(target=self._work, name=f"make-emulator-{n}", daemon=True)
            for n in range(emulator.config.workers)
        ]
        for thread in self._threads:
            thread.start()

    def dispatch(self, hook_id: int) -> None:
        self._jobs.put((hook_id, self._cancel))

    def dispatch_queued(self, hook_id: int) -> None:
        """One job per item waiting on the hook (after start, enable, or a restart)."""
        with self._emulator.state.read() as data:
            hook = data["hooks"].get(str(hook_id))
            waiting = len(hook["queue"]) if hook else 0
        for _ in range(waiting):
            self.dispatch(hook_id)

    def recover(self) -> None:
        """After a restart: runs cut short are marked ``abandoned`` (their item had left the
        queue, as when a Make run dies mid-way), and items still queued are dispatched."""
        with self._emulator.state.change() as data:
            for execution in data["executions"]:
                if execution["status"] == "running":
                    execution["status"] = "abandoned"
            hook_ids = [hook["id"] for hook in data["hooks"].values() if hook["queue"]]
        for hook_id in hook_ids:
            self.dispatch_queued(hook_id)

    def cancel_all(self) -> None:
        """Abandon every queued and running job (used by reset and shutdown)."""
        previous, self._cancel = self._cancel, threading.Event()
        previous.set()

    def shutdown(self) -> None:
        self.cancel_all()
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self.http.close()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._process(*job)
            except Exception:  # a worker must survive any one bad run
                log.exception("make emulator: run on hook %s crashed", job[0])

    def _process(self, hook_id: int, cancel: threading.Event) -> None:
        delay = self._emulator.knobs.callback_delay
        if cancel.is_set() or (delay and cancel.wait(delay)):
            return
        scenario = self._runnable_scenario(hook_id)
        if scenario is None:
            return
        sequential = ((scenario["blueprint"].get("metadata") or {}).get("scenario") or {}).get("sequential") is True
        if not sequential:
            return self._run_next(hook_id, cancel)
        with self._sequential_lock(scenario["id"]):
            return self._run_next(hook_id, cancel)

    def _run_next(self, hook_id: int, cancel: threading.Event) -> None:
        state = self._emulator.state
        with state.change() as data:
            scenario = self._runnable_scenario(hook_id)
            hook = data["hooks"].get(str(hook_id))
            if cancel.is_set() or scenario is None or not hook["queue"]:
                return
            payload = hook["queue"].pop(0)
            execution = {
                "id": state.allocate_id(data, "execution"),
                "scenario_id": scenario["id"],
                "hook_id": hook_id,
                "idempotency_key": payload.get("idempotency_key"),
                "delivery_id": payload.get("delivery_id"),
                "status": "running",
                "error": None,
                "dropped_callbacks": 0,
                "republish_blocked": 0,
                "started_at": utc_now_iso(),
                "finished_at": None,
            }
            data["executions"].append(execution)
            blueprint = copy.deepcopy(scenario["blueprint"])
        run = FlowRun(self._emulator, self.http, scenario["id"], scenario["teamId"], execution["id"], payload, cancel)
        status, error = run.run(blueprint)
        with state.change() as data:
            if cancel.is_set():
                return
            execution.update(
                status=status,
                error=error,
                dropped_callbacks=run.dropped_callbacks,
                republish_blocked=run.republish_blocked,
                finished_at=utc_now_iso(),
            )
            live = data["scenarios"].get(str(scenario["id"]))
            if live and status == "error":  # an instant trigger stops on its first error
                live.update(isActive=False, islinked=False)
            if live and status == "incomplete":
                live["dlqCount"] += 1

    def _runnable_scenario(self, hook_id: int) -> dict | None:
        """The hook's scenario if it is active and runs on each request, else None."""
        with self._emulator.state.read() as data:
            hook = data["hooks"].get(str(hook_id))
            if not hook or not hook["enabled"] or hook["gone"]:
                return None
            scenario = data["scenarios"].get(str(hook["scenarioId"]))
            if scenario and scenario["isActive"] and scenario["scheduling"].get("type") == "immediately":
                return scenario
            return None

    def _sequential_lock(self, scenario_id: int) -> threading.Lock:
        with self._locks_guard:
            return self._sequential_locks.setdefault(scenario_id, threading.Lock())
