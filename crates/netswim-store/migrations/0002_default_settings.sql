-- Default settings: the transfer protocol order devices try, and job defaults.
-- Inserted once; an administrator's later change is never overwritten.

INSERT INTO settings (key, value_json, updated_at)
VALUES ('protocol_order', '["scp","sftp","ftp","tftp"]', 0);

INSERT INTO settings (key, value_json, updated_at)
VALUES ('job_defaults', '{"max_parallel_devices":10,"max_parallel_per_site":5,"max_parallel_per_distribution_server":5,"continue_on_failure":false,"backup_current_image":false,"tftp_fallback":true,"erase_flash_when_short":false,"task_lease_seconds":60}', 0);
