data "teleport_bot" "existing" {
  metadata = {
    name = "example"
  }
}

output "bot_user" {
  value = data.teleport_bot.existing.status.user_name
}
