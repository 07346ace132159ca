import { Type } from 'class-transformer';
import { Allow, IsIn, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_ENDPOINT_LENGTH } from '../../config/endpoint.js';
import { MAX_NAME_LENGTH, MAX_PATH_LENGTH, MAX_TOKEN_LENGTH } from '../../config/limits.js';

/**
 * The shapes the admin API takes. These check types and sizes; what a value means (a token's form,
 * an endpoint's path, update kinds, routes) is checked by BOTS_FILE's own rules, in its words.
 */
export class UpdateBotDto {
  @IsOptional()
  @MaxLength(MAX_ENDPOINT_LENGTH)
  @IsString()
  endpoint?: string | null;

  @IsOptional()
  @MaxLength(256)
  @IsString()
  secret?: string | null;

  /** A list of update kinds, or a comma-separated string of them. */
  @Allow()
  allowed_updates?: unknown;

  @IsOptional()
  @MaxLength(MAX_NAME_LENGTH)
  @IsString()
  redis_queue?: string | null;

  @IsOptional()
  @MaxLength(MAX_PATH_LENGTH)
  @IsString()
  mqtt_topic?: string | null;

  @IsOptional()
  @MaxLength(MAX_PATH_LENGTH)
  @IsString()
  kafka_topic?: string | null;

  /** Target name → update kinds, `all` or `none`. */
  @IsOptional()
  @IsObject()
  routes?: Record<string, unknown> | null;
}

export class CreateBotDto extends UpdateBotDto {
  @MaxLength(MAX_TOKEN_LENGTH)
  @IsString()
  token!: string;
}

export class ListBotsQuery {
  @IsOptional()
  @Type(() => Number)
  @Min(0)
  @IsInt()
  offset = 0;

  @IsOptional()
  @Type(() => Number)
  @Max(1000)
  @Min(1)
  @IsInt()
  limit = 100;
}

export class DeleteBotQuery {
  @IsOptional()
  @IsIn(['true', 'false'])
  drop_pending: 'true' | 'false' = 'false';
}

/** A bot as the API shows it: never its token or secret. */
export interface BotView {
  readonly id: number;
  readonly username?: string;
  /** Where it came from: `admin API`, `BOTS_FILE entry 3`, `TELEGRAM_TOKEN`. */
  readonly source: string;
  /** The webhook path; `null` when the path is the token (WEBHOOK_ENDPOINT=token). */
  readonly endpoint: string | null;
  readonly webhook_url: string | null;
  readonly allowed_updates?: readonly string[];
  readonly redis_queue?: string;
  readonly mqtt_topic?: string;
  readonly kafka_topic?: string;
  readonly routes?: Record<string, readonly string[] | 'all'>;
  readonly webhook: {
    readonly registered?: boolean;
    readonly pending_update_count?: number;
    readonly last_error_message?: string;
  };
}

export interface BotList {
  readonly bots: readonly BotView[];
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
}
