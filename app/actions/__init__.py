"""Actions: the only code that writes state and emits events.

Each user-visible action is a pure plan from `app/domain` → one atomic write of the changed
document, carrying its event in the same update → that one event published. Routes, channels,
timers and (later) automation rules all call these, each naming its `Actor`; reads live in
`app/services`.
"""
