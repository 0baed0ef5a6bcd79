-- Alertmanager's notifications as the agent service's webhook received them, one row
-- per alert of a notification: the incident log of the /admin Alerts tab.

CREATE TABLE IF NOT EXISTS alert_notifications (
    id           BIGSERIAL    PRIMARY KEY,
    received_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    receiver     VARCHAR(100) NOT NULL,  -- the Alertmanager receiver (pager, tickets)
    status       VARCHAR(10)  NOT NULL CHECK (status IN ('firing', 'resolved')),
    alertname    VARCHAR(200) NOT NULL,
    severity     VARCHAR(20),
    labels       JSONB        NOT NULL DEFAULT '{}'::jsonb,  -- every label of the alert
    summary      TEXT,                   -- its summary annotation
    starts_at    TIMESTAMPTZ  NOT NULL,
    ends_at      TIMESTAMPTZ,            -- NULL while firing (no end known yet)
    fingerprint  VARCHAR(64)  NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_alert_notifications_received
    ON alert_notifications (received_at DESC);
CREATE INDEX IF NOT EXISTS idx_alert_notifications_fingerprint
    ON alert_notifications (fingerprint);
