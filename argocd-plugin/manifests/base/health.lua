-- Health of a drift.driftplane.io/DriftReport, for Argo CD's
-- resource.customizations.health.drift.driftplane.io_DriftReport. An application's health is the
-- worst of its resources', so this is what surfaces classified drift in the application.
--
-- Argo CD's Lua sandbox has base, table and a safe os (time, date); no string library, so the
-- reporter writes what this script compares as numbers (lastEvaluatedEpoch) and plain fields.
-- The safe os library is a module there, not a global.
local os = require("os")
local hs = {}
local status = obj.status
-- A failed evaluation comes first: "could not tell" is Unknown (the worst health Argo CD knows),
-- never a stale Healthy, whatever the rest of the status still says.
if status ~= nil and status.conditions ~= nil then
  for _, c in ipairs(status.conditions) do
    if c.type == "Evaluated" and c.status ~= "True" then
      hs.status = "Unknown"
      hs.message = "Drift evaluation failed, so drift is unknown: " .. (c.message or c.reason or "no reason given")
      return hs
    end
  end
end

if status == nil or status.lastEvaluatedEpoch == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the driftplane reporter to evaluate drift"
  return hs
end

local freshness = 900
if obj.spec ~= nil and obj.spec.freshnessSeconds ~= nil then
  freshness = obj.spec.freshnessSeconds
end
local age = os.time() - status.lastEvaluatedEpoch
if age > freshness then
  hs.status = "Progressing"
  hs.message = "Drift evaluation is stale: last evaluated at " .. (status.lastEvaluatedAt or "?") ..
    " (freshness bound " .. freshness .. "s)"
  return hs
end

if obj.metadata ~= nil and obj.metadata.generation ~= nil and status.observedGeneration ~= nil and
    status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "The drift policy changed; waiting for re-evaluation"
  return hs
end

local gate = status.gate or "high"
local blocking = status.blockingCount or 0
if blocking > 0 then
  local shown = {}
  -- Classes whose remedy is not a revert get a lead of their own: a failed apply is investigated
  -- (applying again is what failed), a moved dependency is planned again and validated.
  local failed, dependency, policy = false, false, false
  -- What runs beside the declared objects: a secret that did not reach its consumers (judged from
  -- metadata only), an object nothing declares or owns.
  local secretdelivery, unmanaged = false, false
  -- A failed Argo CD sync and reconcile thrash name their object and say what Argo CD said (the
  -- reporter sanitizes it) or what fights.
  local syncfailed, thrash = nil, nil
  if status.findings ~= nil then
    for _, f in ipairs(status.findings) do
      if f.blocking and f.drift_class == "FAILED_RECONCILIATION" and f.rule == "sync-failed" then
        if syncfailed == nil then
          syncfailed = f
        end
      elseif f.blocking and f.drift_class == "FAILED_RECONCILIATION" and f.rule == "reconcile-thrash" then
        if thrash == nil then
          thrash = f
        end
      elseif f.blocking and f.drift_class == "FAILED_RECONCILIATION" then
        failed = true
      elseif f.blocking and f.drift_class == "DEPENDENCY_DRIFT" then
        dependency = true
      elseif f.blocking and f.drift_class == "POLICY_DRIFT" then
        policy = true
      elseif f.blocking and f.drift_class == "SECRET_DELIVERY_DRIFT" then
        secretdelivery = true
      elseif f.blocking and f.drift_class == "UNMANAGED_RESOURCE" then
        unmanaged = true
      end
      if f.blocking and #shown < 3 then
        local what = f.resource_ref
        if f.kind ~= nil and f.name ~= nil then
          what = f.kind .. "/" .. f.name
        end
        local fields = "deleted"
        if f.drift_class == "FAILED_RECONCILIATION" and f.rule == "sync-failed" then
          fields = "sync failed"
        elseif f.drift_class == "FAILED_RECONCILIATION" then
          fields = "apply failed"
        elseif f.drift_class == "POLICY_DRIFT" then
          fields = "violates a policy rule"
        elseif f.drift_class == "UNMANAGED_RESOURCE" then
          fields = "unmanaged"
        end
        if f.changed_fields ~= nil and #f.changed_fields > 0 then
          fields = table.concat(f.changed_fields, ",")
        end
        table.insert(shown, what .. " " .. f.drift_class .. " " .. f.risk .. " " .. fields)
      end
    end
  end
  hs.status = "Degraded"
  hs.message = blocking .. " unaccepted drift finding(s) at or above gate " .. gate .. ": " .. table.concat(shown, "; ")
  if blocking > #shown and #shown > 0 then
    hs.message = hs.message .. "; and " .. (blocking - #shown) .. " more"
  end
  if dependency then
    hs.message = "A dependency changed under the configuration (plan again, validate, pin it). " .. hs.message
  end
  if policy then
    hs.message = "A policy rule's migration window is over (bring the resources into compliance: migration plan). " .. hs.message
  end
  if unmanaged then
    hs.message = "Objects run that no Git source declares and no controller owns (import them into Git, or delete them after review). " .. hs.message
  end
  if secretdelivery then
    hs.message = "A secret did not reach its consumers (fix the secret sync, then restart the consumers). " .. hs.message
  end
  if failed then
    hs.message = "Reconciliation failed: the last apply did not converge (investigate the control loop; it is never auto-healed). " .. hs.message
  end
  if thrash ~= nil then
    hs.message = "Reconcile thrash on " .. (thrash.kind or "?") .. "/" .. (thrash.name or "?") .. " (auto-heal suspended; investigate the control loop): " ..
      (thrash.explanation or "") .. " " .. hs.message
  end
  if syncfailed ~= nil then
    hs.message = "Sync failed on " .. (syncfailed.kind or "?") .. "/" .. (syncfailed.name or "?") .. ": " .. (syncfailed.explanation or "") .. " " .. hs.message
  end
  -- An exhausted drift budget makes its drift block whatever the gate: name it first.
  local exhausted = {}
  if status.budgets ~= nil then
    for _, b in ipairs(status.budgets) do
      if b.state == "exhausted" then
        table.insert(exhausted, b.name .. " since " .. (b.since or "?"))
      end
    end
  end
  if #exhausted > 0 then
    hs.message = "Drift budget exhausted: " .. table.concat(exhausted, ", ") .. ". " .. hs.message
  end
  return hs
end

local total = 0
if status.findings ~= nil then
  total = #status.findings
end
hs.status = "Healthy"
if total == 0 then
  hs.message = "No drift"
else
  hs.message = "No unaccepted drift at or above gate " .. gate .. " (" .. total .. " finding(s) below it, accepted or expected)"
  -- Below the gate, a fight still stops auto-heal: say so.
  for _, f in ipairs(status.findings) do
    if f.rule == "reconcile-thrash" and (f.accepted_by == nil or f.accepted_by == "") then
      hs.message = hs.message .. "; reconcile thrash on " .. (f.kind or "?") .. "/" .. (f.name or "?") .. ", auto-heal suspended: " .. (f.explanation or "")
      break
    end
  end
end
return hs
