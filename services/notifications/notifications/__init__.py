"""Notifications (通知): turns every service's events into messages for the right people, on every
channel they use (in-app inbox, e-mail, webhooks including WeCom and DingTalk robots, SMS), once,
and reminds them before deadlines."""
