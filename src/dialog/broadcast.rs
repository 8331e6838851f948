//! Staff compose topic announcements for members: topic → text → audience → preview → confirm.
