"""`substrate check STACK FILE...`: will a tenant's workload run on a stack, before it is
deployed?

Everything is decided by the real engines against the stack's plan: the API server's code
(defaulting, built-in admission, Kueue's webhooks, the controllers that create pods), Kyverno
under the stack's own policies, Kueue's scheduler on the stack's queues, and the IAM evaluator
for what a pod's role may call. This package only carries objects between them and words the
verdicts (:mod:`substrate.check.chain` runs the engines, :mod:`substrate.check.verdicts` reads
them, :mod:`substrate.check.render` prints them).
"""
