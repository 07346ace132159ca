/** The parts of Bot API objects this service reads. */
export interface BotUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
}

export interface WebhookInfo {
  url: string;
  has_custom_certificate: boolean;
  pending_update_count: number;
  ip_address?: string;
  last_error_date?: number;
  last_error_message?: string;
  last_synchronization_error_date?: number;
  max_connections?: number;
  allowed_updates?: string[];
}

export interface SetWebhookParams {
  url: string;
  secret_token: string;
  max_connections: number;
  allowed_updates?: readonly string[];
  drop_pending_updates?: boolean;
  ip_address?: string;
}
