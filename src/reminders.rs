//! Reminders (催办): departments before and after a deadline, and staff's daily overdue digest.
