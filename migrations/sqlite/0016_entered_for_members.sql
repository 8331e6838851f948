-- Staff acting for members (代为提交 / 代为评价): which console account entered a suggestion or a
-- rating for a member, and how the member gave it (phone, paper, in person, other: its code).
-- NULL on both: the member did it themselves in Telegram.
ALTER TABLE suggestions ADD COLUMN entered_by INTEGER REFERENCES users(id);
ALTER TABLE suggestions ADD COLUMN entered_via TEXT CHECK (entered_via IN ('phone', 'paper', 'in_person', 'other'));
ALTER TABLE ratings ADD COLUMN entered_by INTEGER REFERENCES users(id);
ALTER TABLE ratings ADD COLUMN entered_via TEXT CHECK (entered_via IN ('phone', 'paper', 'in_person', 'other'));
