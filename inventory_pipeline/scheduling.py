"""What every domain's schedules share: the cron table's time zone, on/off default and overrides.

The old systems' cron tables become Dagster schedules, on by default (``SCHEDULES_RUNNING``), in
``PIPELINE_TIMEZONE``; ``SCHEDULE_CRONS`` replaces a schedule's cron by name."""

from dagster import DefaultScheduleStatus, ScheduleDefinition

from inventory_pipeline.settings import Settings, SettingsError


def cron(settings: Settings, name: str, default: str) -> str:
    return settings.schedule_crons.get(name, default)


def default_status(settings: Settings, configured: bool = True) -> DefaultScheduleStatus:
    """A schedule of a system that is not configured (no Wix site, no Haier account) stays off."""
    running = settings.schedules_running and configured
    return DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED


def every(
    settings: Settings, name: str, job_name: str, default_cron: str, description: str, configured: bool = True
) -> ScheduleDefinition:
    """A schedule that launches one unpartitioned run of ``job_name``."""
    return ScheduleDefinition(
        name=name,
        job_name=job_name,
        cron_schedule=cron(settings, name, default_cron),
        execution_timezone=settings.timezone,
        default_status=default_status(settings, configured),
        description=description,
    )


def check_overrides(settings: Settings, schedules: list[ScheduleDefinition]) -> None:
    """A mistyped name in ``SCHEDULE_CRONS`` is refused rather than silently ignored."""
    names = {s.name for s in schedules}
    unknown = set(settings.schedule_crons) - names
    if unknown:
        raise SettingsError(f"SCHEDULE_CRONS names no schedule {sorted(unknown)}; schedules: {sorted(names)}")
