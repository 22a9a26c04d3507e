"""Pipeline configuration: YAML -> validated pydantic models with key-path errors."""

from secpipe.config.models import PipelineConfig, load_config, validate_file

__all__ = ["PipelineConfig", "load_config", "validate_file"]
